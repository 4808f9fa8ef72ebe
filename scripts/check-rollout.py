#!/usr/bin/env python3
"""Checks that each rendered kustomization's Deployment can roll out with the Tollgate config it
mounts: a SQLite registry (one process holds the file's lock) needs one replica and
`strategy: Recreate`, since a surge pod could never start beside the old one; without one (no
registry, or PostgreSQL), several replicas keep a rolling update that never takes a serving pod
away first (`maxUnavailable: 0`), and a PodDisruptionBudget never covers a single replica; the pod's
`terminationGracePeriodSeconds` must exceed the drain (`server.shutdown_delay_seconds`) plus
`server.shutdown_timeout_seconds`, or the kubelet kills in-flight requests.
Usage: check-rollout.py RENDERED.yaml"""
import sys

import yaml


def tollgate_configs(documents):
    """ConfigMap name -> parsed Tollgate config, for every `*.yaml` key that looks like one."""
    found = {}
    for doc in documents:
        if doc.get("kind") != "ConfigMap":
            continue
        for key, value in (doc.get("data") or {}).items():
            if key.endswith(".yaml"):
                parsed = yaml.safe_load(value) or {}
                if isinstance(parsed, dict) and "server" in parsed:
                    found[doc["metadata"]["name"]] = parsed
    return found


def mounted_configs(pod_spec, configs):
    names = [volume.get("configMap", {}).get("name") for volume in pod_spec.get("volumes", [])]
    return [configs[name] for name in names if name in configs]


def main():
    documents = [doc for doc in yaml.safe_load_all(open(sys.argv[1])) if doc]
    configs = tollgate_configs(documents)
    problems = []
    checked = 0
    for doc in documents:
        if doc.get("kind") != "Deployment":
            continue
        name = doc["metadata"]["name"]
        pod = doc["spec"]["template"]["spec"]
        for config in mounted_configs(pod, configs):
            checked += 1
            server = config.get("server") or {}
            delay = int(server.get("shutdown_delay_seconds", 5))
            timeout = int(server.get("shutdown_timeout_seconds", server.get("shutdown_grace_seconds", 25)))
            grace = int(pod.get("terminationGracePeriodSeconds", 30))
            if grace <= delay + timeout:
                problems.append("%s: terminationGracePeriodSeconds %d must exceed shutdown_delay_seconds %d + shutdown_timeout_seconds %d"
                                % (name, grace, delay, timeout))
            registry = config.get("registry") or {}
            strategy = doc["spec"].get("strategy") or {}
            kind = strategy.get("type", "RollingUpdate")
            replicas = doc["spec"].get("replicas", 1)
            if registry.get("enabled") and registry.get("store", "sqlite") == "sqlite":
                if kind != "Recreate" or replicas != 1:
                    problems.append("%s: a SQLite registry needs replicas: 1 and strategy: Recreate (has %s, %s)" % (name, replicas, kind))
                if any(doc.get("kind") in ("HorizontalPodAutoscaler", "PodDisruptionBudget") for doc in documents):
                    problems.append("%s: a single SQLite replica with an autoscaler or a PodDisruptionBudget (which would block node drains)" % name)
                variant = "SQLite, %s" % kind
            else:
                unavailable = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
                if replicas > 1 and (kind != "RollingUpdate" or str(unavailable) not in ("0", "0%")):
                    problems.append("%s: %d stateless replicas need a rolling update with maxUnavailable: 0 (has %s, %s)" % (name, replicas, kind, unavailable))
                variant = "%s, %s" % ("PostgreSQL" if registry.get("enabled") else "no registry", kind)
            print("check-rollout: %s (%s): %d replica(s), grace %ds > drain %ds + %ds" % (name, variant, replicas, grace, delay, timeout))
    if problems:
        sys.exit("check-rollout: " + "; ".join(problems))
    if not checked:
        sys.exit("check-rollout: no Deployment mounts a Tollgate config")
    print("check-rollout: %d Deployment/config pairings roll out" % checked)


if __name__ == "__main__":
    main()

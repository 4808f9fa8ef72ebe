#!/usr/bin/env python3
"""Structural check of a docker-compose file for machines without Docker: known keys only,
every service has an image or a build whose context and Dockerfile exist, every bind-mounted file
exists, depends_on names real services, ports are HOST:CONTAINER numbers, environment values
are strings. (`docker compose config` does more; run it where Docker is installed.)
Usage: check-compose.py docker/docker-compose.yml"""
import os
import sys

import yaml

TOP = {"name", "services", "volumes", "networks", "configs", "secrets"}
SERVICE = {"image", "build", "command", "entrypoint", "environment", "env_file", "ports", "volumes", "depends_on",
           "healthcheck", "read_only", "tmpfs", "security_opt", "cap_drop", "cap_add", "user", "restart", "networks",
           "labels", "working_dir", "expose", "secrets", "configs"}


def check_demo(base):
    """The demo's realm and Tollgate config together: tokens carry an audience Tollgate requires,
    and no service prints its configuration (with the proxy API key) at start."""
    problems = []
    realm_path, config_path = os.path.join(base, "keycloak", "realm-tollgate.json"), os.path.join(base, "tollgate.yaml")
    if not (os.path.exists(realm_path) and os.path.exists(config_path)):
        return problems
    import json
    realm = json.load(open(realm_path))
    config = yaml.safe_load(open(config_path))
    for issuer in config["inbound"]["issuers"]:
        audiences = issuer.get("audiences") or []
        if not audiences:
            problems.append("tollgate.yaml: issuer %s requires no audience: any token of the realm would pass" % issuer["name"])
        for scope in realm.get("clientScopes", []):
            added = {m["config"].get("included.custom.audience") for m in scope.get("protocolMappers", [])
                     if m.get("protocolMapper") == "oidc-audience-mapper"}
            if not added & set(audiences):
                problems.append("realm: client scope %s adds none of the audiences %s" % (scope["name"], audiences))
    return problems


def main(path):
    base = os.path.dirname(os.path.abspath(path))
    with open(path) as f:
        compose = yaml.safe_load(f)
    problems = []
    problems += ["unknown top-level key %s" % k for k in set(compose) - TOP]
    services = compose.get("services") or {}
    if not services:
        problems.append("no services")
    for name, service in services.items():
        at = "services.%s" % name
        problems += ["%s: unknown key %s" % (at, k) for k in set(service) - SERVICE]
        if "image" not in service and "build" not in service:
            problems.append("%s: needs image or build" % at)
        build = service.get("build")
        if isinstance(build, dict):
            context = os.path.normpath(os.path.join(base, build.get("context", ".")))
            dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
            if not os.path.isdir(context):
                problems.append("%s.build.context %s does not exist" % (at, context))
            if not os.path.isfile(dockerfile):
                problems.append("%s.build.dockerfile %s does not exist" % (at, dockerfile))
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith(".") or source.startswith("/"):
                if not os.path.exists(os.path.normpath(os.path.join(base, source))):
                    problems.append("%s.volumes: %s does not exist" % (at, source))
            elif source not in (compose.get("volumes") or {}):
                problems.append("%s.volumes: named volume %s is not declared" % (at, source))
        for dependency in service.get("depends_on", []):
            if dependency not in services:
                problems.append("%s.depends_on: no service %s" % (at, dependency))
        for port in service.get("ports", []):
            parts = str(port).split(":")
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                problems.append("%s.ports: %s is not HOST:CONTAINER" % (at, port))
        environment = service.get("environment", {})
        if isinstance(environment, dict):
            problems += ["%s.environment.%s must be a string" % (at, k) for k, v in environment.items() if not isinstance(v, str)]
            if environment.get("VERBOSE_STARTUP", "false").lower() == "true":
                problems.append("%s.environment.VERBOSE_STARTUP prints the whole configuration, secrets included" % at)
    problems += check_demo(base)
    if problems:
        sys.exit("check-compose: %s:\n  " % path + "\n  ".join(problems))
    print("check-compose: %s passes (%d services)" % (path, len(services)))


if __name__ == "__main__":
    main(sys.argv[1])

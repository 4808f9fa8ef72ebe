#!/usr/bin/env python3
"""Renders a kustomization the way `kubectl kustomize` does for the features this repository uses
(resources, namespace, labels without selectors), so CI can validate the result offline without
kubectl. Anything else in a kustomization.yaml is an error here, on purpose.
Usage: render-kustomization.py DIR > rendered.yaml"""
import os
import sys

import yaml

SUPPORTED = {"apiVersion", "kind", "namespace", "labels", "resources"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass"}


def render(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        sys.exit("render-kustomization: unsupported fields %s" % sorted(unknown))
    labels = {}
    for entry in kustomization.get("labels", []):
        if entry.get("includeSelectors") or entry.get("includeTemplates"):
            sys.exit("render-kustomization: only labels without selectors/templates are supported")
        labels.update(entry.get("pairs", {}))
    documents = []
    for resource in kustomization.get("resources", []):
        with open(os.path.join(directory, resource)) as f:
            for document in yaml.safe_load_all(f):
                if not document:
                    continue
                metadata = document.setdefault("metadata", {})
                if kustomization.get("namespace") and document.get("kind") not in CLUSTER_SCOPED:
                    metadata["namespace"] = kustomization["namespace"]
                if labels:
                    metadata.setdefault("labels", {}).update(labels)
                documents.append(document)
    return documents


if __name__ == "__main__":
    yaml.safe_dump_all(render(sys.argv[1]), sys.stdout, sort_keys=False)

#!/usr/bin/env python3
"""Renders a kustomization the way `kubectl kustomize` does for the features this repository uses,
so CI can validate the result offline without kubectl:
- resources: files, or directories holding a kustomization (a base, rendered first);
- namespace, and labels without selectors;
- patches: a strategic-merge patch (`path:` or inline `patch:`; maps merge, a document with
  `$patch: delete` removes its resource) or, with a `target`, RFC 6902 JSON patch operations
  (add, remove, replace).
Anything else is an error here, on purpose: lists inside a strategic-merge patch (whose merge keys
this script does not model) included.
Usage: render-kustomization.py DIR > rendered.yaml"""
import copy
import os
import sys

import yaml

SUPPORTED = {"apiVersion", "kind", "namespace", "labels", "resources", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass"}


def fail(message):
    sys.exit("render-kustomization: " + message)


def identity(document):
    return (document.get("kind"), document.get("metadata", {}).get("name"))


def merge(base, patch, where):
    """Strategic merge for maps; a list in the patch is refused (no merge keys modelled)."""
    for key, value in patch.items():
        if isinstance(value, list):
            fail("%s.%s: a list in a strategic-merge patch; use a JSON 6902 patch with a target" % (where, key))
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value, where + "." + key)
        elif value is None:
            base.pop(key, None)
        else:
            base[key] = copy.deepcopy(value)


def pointer(document, path):
    """The parent container and final token of an RFC 6901 pointer."""
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in path.split("/")[1:]]
    if not tokens:
        fail("an empty JSON pointer")
    parent = document
    for token in tokens[:-1]:
        parent = parent[int(token)] if isinstance(parent, list) else parent[token]
    return parent, tokens[-1]


def json_patch(document, operations):
    for operation in operations:
        parent, last = pointer(document, operation["path"])
        op = operation["op"]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op == "add":
                parent.insert(index, copy.deepcopy(operation["value"]))
            elif op == "replace":
                parent[index] = copy.deepcopy(operation["value"])
            elif op == "remove":
                del parent[index]
            else:
                fail("unsupported JSON patch op %s" % op)
        else:
            if op in ("replace", "remove") and last not in parent:
                fail("%s %s: no such member" % (op, operation["path"]))
            if op in ("add", "replace"):
                parent[last] = copy.deepcopy(operation["value"])
            elif op == "remove":
                del parent[last]
            else:
                fail("unsupported JSON patch op %s" % op)


def apply_patch(documents, entry, directory):
    text = entry.get("patch")
    if text is None:
        with open(os.path.join(directory, entry["path"])) as f:
            text = f.read()
    target = entry.get("target")
    if target:
        operations = yaml.safe_load(text)
        matched = [doc for doc in documents if doc.get("kind") == target.get("kind") and doc["metadata"].get("name") == target.get("name")]
        if not matched:
            fail("patch target %s matches nothing" % target)
        for document in matched:
            json_patch(document, operations)
        return documents
    for patch in yaml.safe_load_all(text):
        if not patch:
            continue
        found = [doc for doc in documents if identity(doc) == identity(patch)]
        if not found:
            fail("strategic-merge patch for %s matches nothing" % (identity(patch),))
        if patch.get("$patch") == "delete":
            documents = [doc for doc in documents if identity(doc) != identity(patch)]
            continue
        body = {key: value for key, value in patch.items() if key not in ("apiVersion", "kind")}
        merge(found[0], body, "%s/%s" % identity(patch))
    return documents


def render(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        fail("unsupported fields %s" % sorted(unknown))
    labels = {}
    for entry in kustomization.get("labels", []):
        if entry.get("includeSelectors") or entry.get("includeTemplates"):
            fail("only labels without selectors/templates are supported")
        labels.update(entry.get("pairs", {}))
    documents = []
    for resource in kustomization.get("resources", []):
        path = os.path.join(directory, resource)
        if os.path.isdir(path):
            documents.extend(render(path))
            continue
        with open(path) as f:
            documents.extend(document for document in yaml.safe_load_all(f) if document)
    seen = set()
    for document in documents:
        if identity(document) in seen:
            fail("%s/%s appears twice" % identity(document))
        seen.add(identity(document))
    for entry in kustomization.get("patches", []):
        documents = apply_patch(documents, entry, directory)
    for document in documents:
        metadata = document.setdefault("metadata", {})
        if kustomization.get("namespace") and document.get("kind") not in CLUSTER_SCOPED:
            metadata["namespace"] = kustomization["namespace"]
        if labels:
            metadata.setdefault("labels", {}).update(labels)
    return documents


if __name__ == "__main__":
    yaml.safe_dump_all(render(sys.argv[1]), sys.stdout, sort_keys=False)

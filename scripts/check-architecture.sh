#!/usr/bin/env bash
# docs/architecture.md must tell the truth about Package.swift: every non-test target has a row in
# the module table, and the mermaid graph has exactly the target-to-target edges the manifest declares.
set -euo pipefail
cd "$(dirname "$0")/.."
swift package dump-package | python3 -c '
import json, re, sys
manifest = json.load(sys.stdin)
targets = {t["name"]: t for t in manifest["targets"] if t["type"] != "test"}
declared = set()
for name, target in targets.items():
    for dependency in target["dependencies"]:
        other = (dependency.get("byName") or dependency.get("target") or [None])[0]
        if other in targets:
            declared.add((name, other))
text = open("docs/architecture.md").read()
graph = re.search(r"```mermaid\n(.*?)```", text, re.S).group(1)
drawn = set()
for line in graph.splitlines():
    edge = re.match(r"\s*(\w+)(?:\[[^\]]*\])?\s*-->\s*(\w+)", line)
    if edge:
        drawn.add((edge.group(1), edge.group(2)))
problems = []
for source, target in sorted(declared - drawn):
    problems.append(f"graph misses {source} --> {target}")
for source, target in sorted(drawn - declared):
    problems.append(f"graph draws {source} --> {target}, which Package.swift does not declare")
rows = set(re.findall(r"^\| `(\w+)`", text, re.M)) | {n for row in re.findall(r"^\| (`\w+`(?:, `\w+`)+) \|", text, re.M) for n in re.findall(r"`(\w+)`", row)}
for name in sorted(set(targets) - rows):
    problems.append(f"module table has no row for {name}")
count = re.search(r"Tollgate is (\w+) targets", text)
if not count or count.group(1) != {12: "twelve"}.get(len(targets), str(len(targets))):
    problems.append(f"the opening sentence must say Tollgate is {len(targets)} targets")
if problems:
    print("docs/architecture.md disagrees with Package.swift:", *problems, sep="\n  ")
    sys.exit(1)
print(f"docs/architecture.md: {len(targets)} targets, {len(declared)} edges, all drawn")
'

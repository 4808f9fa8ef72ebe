#!/usr/bin/env python3
"""What the release binary is made of, and what an idle instance holds (issue 33).

- Stripped size, and every defined symbol's size attributed to its module: Swift symbols by the
  module their mangled name begins with, C and C++ by prefix (BoringSSL, SQLite, ICU, the Swift
  runtime). ICU's data table is its own row.
- With --build-dir: the modules whose objects reference symbols of the full `Foundation` or
  `FoundationInternationalization` (DateFormatter, CharacterSet, JSONSerialization, NS* classes):
  any one of them links Foundation's ICU into the binary.
- Idle RSS of `serve` on the README's embedded defaults (dev issuer, SQLite registry) after start:
  anonymous, file-backed, and the executable's text mapping, from /proc/PID/status and smaps.
- --compare BIN measures a second binary (an older release) in the same run, side by side.

Usage: bench/footprint.py --tollgate BIN [--compare BIN] [--build-dir .build-static/x86_64-unknown-linux-gnu/release]"""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from loopback import request, wait_until  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PORT = 18990
FULL_FOUNDATION = re.compile(r"\$s(10Foundation|30FoundationInternationalization)[^E]")


def module_of(name):
    match = re.match(r"^\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", name)
    if match:
        return match.group(2)[:int(match.group(1))]
    if name.startswith("$s"):
        return "Swift (standard library, specialisations)"
    if name.startswith("icudt"):
        return "ICU data (icudt)"
    if "icu_" in name or re.search(r"_7\d$", name):
        return "ICU code"
    if "BoringSSL" in name or "nistz256" in name:
        return "BoringSSL"
    if name.startswith("sqlite3"):
        return "SQLite"
    if name.startswith(("swift_", "_swift")):
        return "Swift runtime"
    return "other C/C++"


def composition(binary):
    sizes = collections.Counter()
    out = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            sizes[module_of(parts[3])] += int(parts[1], 16)
    return sizes


def stripped_size(binary, work):
    target = os.path.join(work, "stripped")
    subprocess.run(["strip", "-o", target, binary], check=True)
    return os.path.getsize(target)


def foundation_users(build_dir):
    users = {}
    for entry in sorted(os.listdir(build_dir)):
        if not entry.endswith(".build"):
            continue
        objects = [os.path.join(build_dir, entry, name) for name in os.listdir(os.path.join(build_dir, entry)) if name.endswith(".o")]
        if not objects:
            continue
        undefined = subprocess.run(["nm", "-u"] + objects, capture_output=True, text=True).stdout
        names = sorted({line.split()[-1] for line in undefined.splitlines() if FULL_FOUNDATION.search(line)})
        if names:
            demangled = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(names), capture_output=True, text=True).stdout
            kinds = sorted({re.sub(r"^(specialized |static |type metadata accessor for |nominal type descriptor for )+", "", line).split("(")[0].split(".")[0]
                            for line in demangled.splitlines()})
            users[entry[:-len(".build")]] = kinds
    return users


def idle_rss(binary, work):
    directory = tempfile.mkdtemp(dir=work)
    shutil.copy(os.path.join(REPO, "config.yaml"), directory)
    log = open(os.path.join(directory, "log"), "wb")
    process = subprocess.Popen([binary, "serve"], cwd=directory, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "TOLLGATE_PORT": str(PORT)})
    try:
        if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/health" % PORT)[0] == 200, 30):
            raise SystemExit("footprint: %s did not start (log in %s)" % (binary, directory))
        time.sleep(3)
        status = dict(line.split(":", 1) for line in open("/proc/%d/status" % process.pid))
        kb = lambda key: int(status[key].split()[0])  # noqa: E731
        text = 0
        current = None
        for line in open("/proc/%d/smaps" % process.pid):
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                fields = line.split()
                current = fields[1] == "r-xp" and len(fields) > 5 and os.path.realpath(fields[5]) == os.path.realpath(binary)
            elif current and line.startswith("Rss:"):
                text += int(line.split()[1])
        return {"rss": kb("VmRSS"), "anon": kb("RssAnon"), "file": kb("RssFile"), "text": text}
    finally:
        process.terminate()
        process.wait(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--compare")
    parser.add_argument("--build-dir")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="tollgate-footprint.")
    args.tollgate = os.path.abspath(args.tollgate)
    args.compare = args.compare and os.path.abspath(args.compare)
    binaries = [("this build", args.tollgate)] + ([("compared", args.compare)] if args.compare else [])
    try:
        rows = []
        for label, binary in binaries:
            rows.append((label, os.path.getsize(binary), stripped_size(binary, work), idle_rss(binary, work), composition(binary)))
        print("| binary | file MB | stripped MB | idle RSS MB | anonymous MB | text mapped MB |")
        print("|---|---|---|---|---|---|")
        for label, size, stripped, rss, _ in rows:
            print("| %s | %.1f | %.1f | %.1f | %.1f | %.1f |" % (label, size / 1e6, stripped / 1e6, rss["rss"] / 1024, rss["anon"] / 1024, rss["text"] / 1024))
        print()
        sizes = rows[0][4]
        total = sum(sizes.values())
        print("Defined symbols of %s by module (%.1f MB in symbols; the rest is metadata sections, unwind tables, relocations):" % (args.tollgate, total / 1e6))
        print()
        print("| module | MB | share |")
        print("|---|---|---|")
        for module, size in sizes.most_common(30):
            print("| %s | %.2f | %.1f%% |" % (module, size / 1e6, 100.0 * size / total))
        if args.build_dir:
            print()
            print("Modules in the binary that reference the full Foundation (any one of them links Foundation's ICU):")
            print()
            for module, kinds in foundation_users(args.build_dir).items():
                if module not in sizes:
                    continue
                print("- %s: %s" % (module, ", ".join(kinds)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

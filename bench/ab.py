#!/usr/bin/env python3
"""Two Tollgate builds side by side (e.g. before and after a refactor), interleaved in rounds:
/health, cached /auth with introspection, cached /auth with local JWT, and uncached in-process
RS256 verification. Both run the shipped config.yaml on loopback with their embedded dev issuer.

Usage: bench/ab.py --a OLD/tollgate --b NEW/tollgate [--rounds 5] [--seconds 5]
Needs wrk (Debian). Prints medians, the spread of rounds and the ratio b/a for each row.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
import tempfile  # noqa: E402

from loopback import Processes, free_port, wait_ready  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def token(port):
    request = urllib.request.Request(
        "http://127.0.0.1:%d/dev-issuer/token" % port, data=b"grant_type=client_credentials&scope=read",
        headers={"Authorization": "Basic dG9sbGdhdGUtZGV2OnRvbGxnYXRlLWRldi1zZWNyZXQ=",
                 "Content-Type": "application/x-www-form-urlencoded"})
    return json.load(urllib.request.urlopen(request))["access_token"]


def wrk(url, seconds, header=None):
    command = ["wrk", "-t1", "-c32", "-d%ds" % seconds, url]
    if header:
        command[1:1] = ["-H", header]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def verify_rate(binary, seconds):
    bench = os.path.join(os.path.dirname(binary), "tollgate-bench")
    command = [bench, "verify"] if os.path.exists(bench) else [binary, "bench-verify"]
    out = subprocess.run(command + ["--seconds", str(seconds), "--tasks", "1"], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"= ([\d.]+)", out).group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True, help="the baseline tollgate binary")
    parser.add_argument("--b", required=True, help="the candidate tollgate binary")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    rows = {}
    processes = Processes(tempfile.mkdtemp(prefix="tollgate-ab-"))
    try:
        targets = {}
        for label, binary in (("a", args.a), ("b", args.b)):
            for mode in ("introspection", "auto"):
                port = free_port()
                processes.start("%s-%s" % (label, mode), [binary, "serve", "--config", os.path.join(REPO, "config.yaml"),
                                                          "--port", str(port)],
                                env={"TOLLGATE_DEV_MODE": mode, "TOLLGATE_DATA_DIR": os.path.join(processes.work, "%s-%s-data" % (label, mode))})
                wait_ready(port)
                targets[(label, mode)] = (port, "Authorization: Bearer " + token(port))
        for round_number in range(args.rounds):
            for label in ("a", "b") if round_number % 2 == 0 else ("b", "a"):
                port, bearer = targets[(label, "introspection")]
                rows.setdefault(("/health", label), []).append(wrk("http://127.0.0.1:%d/health" % port, args.seconds))
                rows.setdefault(("cached /auth, introspection", label), []).append(
                    wrk("http://127.0.0.1:%d/auth" % port, args.seconds, bearer))
                port, bearer = targets[(label, "auto")]
                rows.setdefault(("cached /auth, local JWT (auto)", label), []).append(wrk("http://127.0.0.1:%d/auth" % port, args.seconds, bearer))
                rows.setdefault(("uncached RS256 verification in-process (1 task)", label), []).append(
                    verify_rate(args.a if label == "a" else args.b, args.seconds))
    finally:
        processes.stop_all()
    print("| row | a median (spread) | b median (spread) | b/a |")
    print("|---|---|---|---|")
    for name in dict.fromkeys(key[0] for key in rows):
        a, b = rows[(name, "a")], rows[(name, "b")]
        print("| %s | %.0f (%.0f–%.0f) | %.0f (%.0f–%.0f) | %.2f |" % (
            name, statistics.median(a), min(a), max(a), statistics.median(b), min(b), max(b), statistics.median(b) / statistics.median(a)))


if __name__ == "__main__":
    main()

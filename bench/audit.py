#!/usr/bin/env python3
"""The audit trail's cost (issue 31): cached `/auth` and `/orthanc/authorize` on two Tollgates in one
run, one with `audit:` off and one recording every allowed decision to a file sink (tmpfs), the
rounds interleaved so machine noise falls on both. Reports req/s, the ratio on/off, and server CPU
per request from /proc/PID/stat.

Usage: bench/audit.py --tollgate BIN --work DIR [--quick]"""

import argparse
import base64
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from loopback import Processes, request, wait_until  # noqa: E402
import bench  # noqa: E402  (its wrk runner)

PORTS = {"off": 18920, "on": 18921}
SECRET = "bench-audit-dev-secret"


def dev_issuer_config(server, secret):
    """The benches' Tollgate: `server` as its `server:` mapping, quiet logs, a 10,000-entry decision
    cache, and the embedded dev issuer minting for (and introspected by) client `bench` with `secret`."""
    return """server: %s
log: {level: info, format: json, access: false}
inbound:
  cache: {max_entries: 10000, max_ttl_seconds: 300}
  issuers: [{name: dev, embedded: true, introspection: {client_id: bench, client_secret: "%s"}}]
dev_issuer:
  enabled: true
  clients: [{client_id: bench, client_secret: "%s", scopes: [read]}]
""" % (server, secret, secret)


def dev_token(port, secret):
    """A client-credentials token from the dev issuer of the Tollgate on `port` (client `bench`)."""
    basic = "Basic " + base64.b64encode(("bench:" + secret).encode()).decode()
    body = request("POST", "http://127.0.0.1:%d/dev-issuer/token" % port, b"grant_type=client_credentials",
                   {"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic}, timeout=60)[2]
    return json.loads(body)["access_token"]


def config(port, audit_path):
    text = dev_issuer_config("{host: 127.0.0.1, port: %d}" % port, SECRET) + """orthanc:
  auth: none
  permissions:
    role_claims: [scope]
    roles:
      read: {permissions: [view], authorized-labels: ["*"]}
"""
    if audit_path:
        text += "audit:\n  enabled: true\n  sinks: {file: {path: %s}}\n" % audit_path
    return text


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, after the state field


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, seconds = (1, 2) if args.quick else (int(os.environ.get("AUDIT_BENCH_ROUNDS", 5)), int(os.environ.get("AUDIT_BENCH_SECONDS", 8)))
    procs = Processes(args.work)
    try:
        for name, port in PORTS.items():
            path = os.path.join(args.work, "audit-%s.yaml" % name)
            with open(path, "w") as out:
                out.write(config(port, os.path.join(args.work, "audit-trail.jsonl") if name == "on" else None))
            procs.start("audit-" + name, [args.tollgate, "serve", "--config", path])
        for port in PORTS.values():
            if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % port)[0] == 200, 30):
                raise SystemExit("bench/audit.py: Tollgate on %d not ready" % port)
        tokens = {name: dev_token(port, SECRET) for name, port in PORTS.items()}
        hz = os.sysconf("SC_CLK_TCK")
        results = {}
        for round_number in range(rounds + 1):  # round 0 warms up and is not counted
            for route in ("/auth", "/orthanc/authorize"):
                for name, port in PORTS.items():
                    url = "http://127.0.0.1:%d%s" % (port, route)
                    options = dict(token=tokens[name]) if route == "/auth" else dict(script="orthanc-authorize.lua", env={"TOKEN": tokens[name]})
                    pid = procs.running["audit-" + name].pid
                    before = cpu_ticks(pid)
                    rps, _, p99, count = bench.wrk(url, seconds, **options)
                    cpu_us = (cpu_ticks(pid) - before) / hz / max(count, 1) * 1e6
                    if round_number:
                        results.setdefault((route, name), []).append((rps, p99, cpu_us))
        written = sum(1 for _ in open(os.path.join(args.work, "audit-trail.jsonl")))
        print("| route | audit off req/s | audit on req/s | on/off | CPU µs/req off | on |")
        print("|---|---:|---:|---:|---:|---:|")
        for route in ("/auth", "/orthanc/authorize"):
            off = [r[0] for r in results[(route, "off")]]
            on = [r[0] for r in results[(route, "on")]]
            ratio = statistics.median(b / a for a, b in zip(off, on))
            cpu_off = statistics.median(r[2] for r in results[(route, "off")])
            cpu_on = statistics.median(r[2] for r in results[(route, "on")])
            print("| cached `%s` | %.0f | %.0f | %.2f× | %.1f | %.1f |" % (route, statistics.median(off), statistics.median(on), ratio, cpu_off, cpu_on))
        print("audit records written during the run: %d (%d rounds of %d s, the first a warm-up)" % (written, rounds, seconds))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()

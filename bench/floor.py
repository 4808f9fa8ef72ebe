#!/usr/bin/env python3
"""The floor reference (issue 35): Tollgate's cached `/auth` against a plain SwiftNIO HTTP/1 server
(`tollgate-bench floor-server`: one event loop, no framework, no Swift concurrency: the ceiling of
this stack on this machine) and nginx `return 200` with one worker, in one run with the rounds
interleaved. Reports req/s and server CPU per request (from /proc/PID/stat across each round, which
machine noise moves far less than req/s), and the ratios issue 35's targets are written in.

Usage: bench/floor.py --tollgate BIN --bench BIN --work DIR [--quick]"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from audit import cpu_ticks, dev_issuer_config, dev_token  # noqa: E402
from loopback import Processes, nginx_conf, request, wait_until  # noqa: E402
import bench  # noqa: E402  (its wrk runner)

PORTS = {"tollgate": 18940, "floor": 18941, "nginx": 18942}
SECRET = "bench-floor-dev-secret"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--bench", required=True, help="the tollgate-bench binary (its floor-server)")
    parser.add_argument("--work", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, seconds = (1, 2) if args.quick else (int(os.environ.get("FLOOR_BENCH_ROUNDS", 5)), int(os.environ.get("FLOOR_BENCH_SECONDS", 8)))
    os.makedirs(args.work, exist_ok=True)
    procs = Processes(args.work)
    try:
        path = os.path.join(args.work, "floor-tollgate.yaml")
        with open(path, "w") as out:
            out.write(dev_issuer_config("{host: 127.0.0.1, port: %d}" % PORTS["tollgate"], SECRET))
        procs.start("tollgate", [args.tollgate, "serve", "--config", path])
        procs.start("floor", [args.bench, "floor-server", "--port", str(PORTS["floor"])])
        directory = os.path.join(args.work, "nginx")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "nginx.conf"), "w") as conf:
            conf.write(nginx_conf(directory, "  server { listen 127.0.0.1:%d; location / { return 200 \"ok\\n\"; } }\n" % PORTS["nginx"]))
        procs.start("nginx", ["/usr/sbin/nginx", "-c", os.path.join(directory, "nginx.conf")])
        urls = {"tollgate": "http://127.0.0.1:%d/auth" % PORTS["tollgate"], "floor": "http://127.0.0.1:%d/" % PORTS["floor"],
                "nginx": "http://127.0.0.1:%d/" % PORTS["nginx"]}
        if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % PORTS["tollgate"])[0] == 200
                          and request("GET", urls["floor"])[0] == 200 and request("GET", urls["nginx"])[0] == 200, 30):
            raise SystemExit("bench/floor.py: a server did not come up")
        token = dev_token(PORTS["tollgate"], SECRET)
        # nginx runs a master and one worker: the worker answers.
        pids = {name: procs.running[name].pid for name in ("tollgate", "floor")}
        workers = [int(p) for p in os.popen("pgrep -P %d" % procs.running["nginx"].pid).read().split()]
        pids["nginx"] = workers[0] if workers else procs.running["nginx"].pid
        hz = os.sysconf("SC_CLK_TCK")
        results = {}
        for round_number in range(rounds + 1):  # round 0 warms up and is not counted
            for name in ("tollgate", "floor", "nginx"):
                before = cpu_ticks(pids[name])
                rps, _, p99, count = bench.wrk(urls[name], seconds, token=token if name == "tollgate" else None)
                cpu_us = (cpu_ticks(pids[name]) - before) / hz / max(count, 1) * 1e6
                if round_number:
                    results.setdefault(name, []).append((rps, p99, cpu_us))
        label = {"tollgate": "Tollgate cached `/auth`", "floor": "plain SwiftNIO server (floor)", "nginx": "nginx `return 200`, one worker"}
        print("| server | req/s (median) | req/s range | CPU µs/req (median) | CPU range |")
        print("|---|---:|---:|---:|---:|")
        for name in ("tollgate", "floor", "nginx"):
            rps = [r[0] for r in results[name]]
            cpu = [r[2] for r in results[name]]
            print("| %s | %.0f | %.0f–%.0f | %.1f | %.1f–%.1f |" % (label[name], statistics.median(rps), min(rps), max(rps),
                                                                    statistics.median(cpu), min(cpu), max(cpu)))
        median = lambda name, index: statistics.median(r[index] for r in results[name])  # noqa: E731
        print("Tollgate CPU per request / the floor's: %.2f× (issue 35's target: ≤ 1.25×)" % (median("tollgate", 2) / median("floor", 2)))
        print("Tollgate req/s / nginx's: %.2f× (target ≥ 0.4×); the floor's / nginx's: %.2f×"
              % (median("tollgate", 0) / median("nginx", 0), median("floor", 0) / median("nginx", 0)))
        print("(%d rounds of %d s each, interleaved, after a warm-up round; wrk -t1 -c32)" % (rounds, seconds))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()

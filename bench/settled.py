#!/usr/bin/env python3
"""The routes answered from settled facts (issue 35): cached `/auth`, MockForge's
`/plugin/authenticate`, and Orthanc's `/tokens/validate` (a share token verified before),
`/user/get-profile` and `/orthanc/authorize` (a cached user token), on two Tollgates of one binary
in one run: `server.event_loop_answers` on (the default) and off (every request through the router).
Rounds interleaved; req/s and server CPU per request from /proc/PID/stat, each route's ratio to
cached `/auth` on the event loop, and each route's CPU on the event loop against the router.

`--instructions` counts instead, under callgrind (bench/callgrind.py): instructions per request of
each route on one keep-alive connection, event loop and router, which machine noise does not move.

Usage: bench/settled.py --tollgate BIN --work DIR [--quick | --instructions]"""

import argparse
import base64
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from audit import cpu_ticks, dev_issuer_config, dev_token  # noqa: E402
from loopback import Processes, request, wait_until  # noqa: E402
import http.client
import bench  # noqa: E402  (its wrk runner)
import callgrind  # noqa: E402

PORTS = {"event loop": 18960, "router": 18961}
SECRET = "bench-settled-dev-secret"
SHARE_KEY = "bench-settled-share-key-of-32-bytes!"
BASIC = "Basic " + base64.b64encode(b"orthanc:bench-ws-secret").decode()
STUDY = "6e2c0ec2-5d99c8ca-c1c21cee-79a09605-68391d12"


def config(port, event_loop):
    server = "{host: 127.0.0.1, port: %s, event_loop_answers: %s}" % (port, "true" if event_loop else "false")
    return dev_issuer_config(server, SECRET) + """orthanc:
  webservice_username: orthanc
  webservice_password: bench-ws-secret
  share_tokens: {key: "%s"}
  permissions:
    role_claims: [scope]
    roles:
      read: {permissions: [view], authorized-labels: ["*"]}
""" % SHARE_KEY


def routes(token, share):
    """route → (path, wrk options)."""
    def post(body, basic=True):
        env = {"BODY": json.dumps(body, separators=(",", ":"))}
        if basic:
            env["AUTHORIZATION"] = BASIC
        return dict(script="post-body.lua", env=env)
    return {
        "GET /auth": ("/auth", dict(token=token)),
        "POST /plugin/authenticate": ("/plugin/authenticate", post(
            {"context": {"method": "GET", "uri": "/api/users", "headers": {}}, "credentials": {"type": "bearer", "token": token}}, basic=False)),
        "POST /tokens/validate": ("/tokens/validate", post(
            {"dicom-uid": "1.2.3", "orthanc-id": STUDY, "level": "study", "method": "get", "uri": "/dicom-web/studies/1.2.3",
             "token-key": "token", "token-value": share, "server-id": None})),
        "POST /user/get-profile": ("/user/get-profile", post({"token-key": "authorization", "token-value": "Bearer " + token})),
        "POST /orthanc/authorize": ("/orthanc/authorize", post(
            {"method": "GET", "uri": "/studies/" + STUDY, "tokens": ["Bearer " + token], "resources": [{"level": "study", "orthanc-id": STUDY}]})),
    }


def share_token(port):
    """A share token for study 1.2.3, made by the Tollgate on `port`."""
    asked = json.dumps({"id": None, "server-id": None, "type": "viewer-instant-link", "expiration-date": None, "validity-duration": 3600,
                        "resources": [{"dicom-uid": "1.2.3", "orthanc-id": STUDY, "level": "study", "url": None}]}).encode()
    status, _, created = request("PUT", "http://127.0.0.1:%d/tokens/viewer-instant-link" % port, asked,
                                 {"Content-Type": "application/json", "Authorization": BASIC}, timeout=60)
    if status != 200:
        raise SystemExit("bench/settled.py: share token not made (%d)" % status)
    return json.loads(created)["token"]


def instructions(binary, work, requests=300):
    """Instructions per request, event loop and router, for every route."""
    print("| route | instructions per request, event loop | router | event loop / router | cached `/auth` / route (event loop) |")
    print("|---|---:|---:|---:|---:|")
    counts = {}
    for route in routes("t", "s"):
        for event_loop in (True, False):
            def prepare(port):
                path, options = routes(dev_token(port, SECRET), share_token(port))[route]
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                env = options.get("env", {})
                headers = {"Content-Type": "application/json"} if "BODY" in env else {"Authorization": "Bearer " + options["token"]}
                if "AUTHORIZATION" in env:
                    headers["Authorization"] = env["AUTHORIZATION"]
                body = env["BODY"].encode() if "BODY" in env else None

                def ask(count):
                    for _ in range(count):
                        connection.request("POST" if body else "GET", path, body=body, headers=headers)
                        answer = connection.getresponse()
                        answer.read()
                        if answer.status != 200:
                            raise RuntimeError("%s answered %d" % (route, answer.status))
                return ask
            counts[(route, event_loop)] = callgrind.per_request(binary, config("{PORT}", event_loop), work, prepare, requests)
        fast, slow = counts[(route, True)], counts[(route, False)]
        print("| `%s` | %.0f | %.0f | %.2f× | %.2f× |" % (route, fast, slow, fast / slow, counts[("GET /auth", True)] / fast), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind instead of timing")
    args = parser.parse_args()
    if args.instructions:
        os.makedirs(args.work, exist_ok=True)
        return instructions(args.tollgate, args.work)
    rounds, seconds = (1, 2) if args.quick else (int(os.environ.get("SETTLED_BENCH_ROUNDS", 3)), int(os.environ.get("SETTLED_BENCH_SECONDS", 5)))
    os.makedirs(args.work, exist_ok=True)
    procs = Processes(args.work)
    try:
        for name, port in PORTS.items():
            path = os.path.join(args.work, "settled-%s.yaml" % port)
            with open(path, "w") as out:
                out.write(config(port, name == "event loop"))
            procs.start("settled-%d" % port, [args.tollgate, "serve", "--config", path])
        for port in PORTS.values():
            if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % port)[0] == 200, 30):
                raise SystemExit("bench/settled.py: Tollgate on %d not ready" % port)
        # Each instance decides its own dev issuer's token and honours the share token it made.
        tokens = {name: dev_token(port, SECRET) for name, port in PORTS.items()}
        shares = {name: share_token(port) for name, port in PORTS.items()}
        pids = {name: procs.running["settled-%d" % port].pid for name, port in PORTS.items()}
        hz = os.sysconf("SC_CLK_TCK")
        results = {}
        for round_number in range(rounds + 1):  # round 0 warms up (and fills the caches) and is not counted
            for name, port in PORTS.items():
                for route, (path, options) in routes(tokens[name], shares[name]).items():
                    before = cpu_ticks(pids[name])
                    rps, _, p99, count = bench.wrk("http://127.0.0.1:%d%s" % (port, path), seconds, **options)
                    cpu_us = (cpu_ticks(pids[name]) - before) / hz / max(count, 1) * 1e6
                    if round_number:
                        results.setdefault((name, route), []).append((rps, cpu_us))
        median = lambda key, index: statistics.median(r[index] for r in results[key])  # noqa: E731
        auth = ("event loop", "GET /auth")
        print("| route | event loop req/s (range) | CPU µs/req (range) | × cached `/auth` req/s | router req/s | router CPU µs/req | CPU event loop / router |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for route in routes("t", "s"):
            fast, slow = results[("event loop", route)], results[("router", route)]
            print("| `%s` | %.0f (%.0f–%.0f) | %.1f (%.1f–%.1f) | %.2f× | %.0f | %.1f | %.2f× |" % (
                route, median(("event loop", route), 0), min(r[0] for r in fast), max(r[0] for r in fast),
                median(("event loop", route), 1), min(r[1] for r in fast), max(r[1] for r in fast),
                median(("event loop", route), 0) / median(auth, 0), median(("router", route), 0), median(("router", route), 1),
                median(("event loop", route), 1) / median(("router", route), 1)))
        print("(%d rounds of %d s each, interleaved, after a warm-up round; wrk -t1 -c32; one binary, event_loop_answers on and off)"
              % (rounds, seconds))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()

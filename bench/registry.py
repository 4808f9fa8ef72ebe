#!/usr/bin/env python3
"""The registry's credentials endpoint on its two stores, and the background refresh.

Two Tollgates on the shipped config.yaml: one with the SQLite registry, one on PostgreSQL (a
throw-away cluster from scripts/lib/postgres.sh). Each holds a client-credentials connection
against its own embedded dev issuer. wrk drives GET /oauth/credentials/{name} on both in
interleaved rounds (req/s and p99, with the spread of rounds). Then the token requests the
registry makes are counted over a window with no callers and over one under full load: the
background refresh, not the request rate, decides them.

Usage: bench/registry.py --tollgate PATH [--rounds 3] [--seconds 10] [--window 30]
Needs wrk and PostgreSQL (Debian). Prints a Markdown table.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from loopback import Processes, as_json, free_port, request, wait_ready  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
API_KEY = "bench-registry-api-key-0123456789"
KEY = "q1Wm0Q2dBkq9p9ZrBjJ0xv8mX6c4Zk3Y7uPz1fL2sNw="


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t1", "-c32", "-d%ds" % seconds, "--latency", "-H", "X-API-Key: " + API_KEY, url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rate, p99_ms


def registry_yaml(store, work, name, postgres_url):
    block = ('  store: sqlite\n  sqlite: {path: "%s/%s.sqlite"}\n' % (work, name) if store == "sqlite"
             else '  store: postgres\n  postgres: {url: "%s", schema: bench_%s}\n' % (postgres_url, name))
    return ("admin: {auth_mode: api_key, api_keys: [\"%s\"]}\nregistry:\n  enabled: true\n%s"
            "  encryption: {keys: [{id: bench, key: \"%s\"}]}\n  refresh: {interval_seconds: 5, ahead_seconds: 20}\n") % (API_KEY, block, KEY)


def token_requests(port):
    text = request("GET", "http://127.0.0.1:%d/metrics" % port)[2].decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("tollgate_registry_token_requests_total{"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--window", type=int, default=30)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="tollgate-bench-registry-")
    os.chmod(work, 0o755)  # as root, the cluster runs as the postgres user, which must reach its directory
    procs = Processes(work)
    postgres_dir = os.path.join(work, "pg")
    postgres_url = subprocess.run([os.path.join(REPO, "scripts", "lib", "postgres.sh"), "start", postgres_dir, str(free_port())],
                                  capture_output=True, text=True, check=True).stdout.strip()
    try:
        with open(os.path.join(REPO, "config.yaml")) as shipped:
            # The shipped registry block is replaced; tokens live 60 s so the refresh has work to do.
            base = shipped.read().split("\n# Runtime OAuth connections")[0].replace("token_ttl_seconds: 3600", "token_ttl_seconds: 60") + "\n"
        ports = {}
        for store in ("sqlite", "postgres"):
            port = free_port()
            path = os.path.join(work, store + ".yaml")
            with open(path, "w") as out:
                out.write(base + registry_yaml(store, work, store, postgres_url))
            procs.start(store, [args.tollgate, "serve", "--config", path, "--port", str(port)],
                        env={"TOLLGATE_DATA_DIR": os.path.join(work, store + "-data")})
            wait_ready(port, 30)
            status, _, body = request("POST", "http://127.0.0.1:%d/oauth/connections" % port, {
                "connection_name": "pacs", "oauth_flow_type": "client_credentials", "client_id": "tollgate-dev",
                "client_secret": "tollgate-dev-secret", "token_url": "http://127.0.0.1:%d/dev-issuer/token" % port, "scopes": "read"},
                {"X-API-Key": API_KEY})
            if status != 201:
                raise SystemExit("cannot create the connection on %s: %s %s" % (store, status, body[:200]))
            ports[store] = port
        rows = {}
        for number in range(args.rounds):
            for store in ("sqlite", "postgres") if number % 2 == 0 else ("postgres", "sqlite"):
                rows.setdefault(store, []).append(wrk("http://127.0.0.1:%d/oauth/credentials/pacs" % ports[store], args.seconds))
        print("| GET /oauth/credentials/{name} (held token, 32 connections) | req/s (median; rounds) | p99 ms (median; rounds) |")
        print("|---|---|---|")
        for store in ("sqlite", "postgres"):
            rates = [rate for rate, _ in rows[store]]
            p99s = [p99 for _, p99 in rows[store]]
            print("| %s | %.0f (%s) | %.2f (%s) |" % (store, statistics.median(rates), ", ".join("%.0f" % r for r in rates),
                                                    statistics.median(p99s), ", ".join("%.2f" % p for p in p99s)))

        # Token requests with no callers, then with callers flat out: the refresh decides them.
        print()
        print("| store | token requests / hour, idle | token requests / hour, under load (req/s) |")
        print("|---|---|---|")
        for store in ("sqlite", "postgres"):
            port = ports[store]
            before = token_requests(port)
            time.sleep(args.window)
            idle = (token_requests(port) - before) * 3600 / args.window
            load = {}
            thread = threading.Thread(target=lambda: load.update(result=wrk("http://127.0.0.1:%d/oauth/credentials/pacs" % port, args.window)))
            before = token_requests(port)
            thread.start()
            thread.join()
            busy = (token_requests(port) - before) * 3600 / args.window
            print("| %s | %.0f | %.0f (%.0f req/s) |" % (store, idle, busy, load["result"][0]))
        print()
        print("Tokens live 60 s; registry.refresh: interval 5 s, so a token is replaced with under 35 s left (the default "
              "min_ttl of 30 s plus an interval): about one token request per 25-30 s whatever the load, ~120-145 per hour.")
    finally:
        procs.stop_all()
        subprocess.run([os.path.join(REPO, "scripts", "lib", "postgres.sh"), "stop", postgres_dir], capture_output=True)


if __name__ == "__main__":
    main()

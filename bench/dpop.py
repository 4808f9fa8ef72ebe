#!/usr/bin/env python3
"""The cost of DPoP (issue 34): cached `/auth` with a plain bearer token against cached `/auth`
with a DPoP-bound token and a fresh proof on every request (signature check, thumbprint, `ath`,
replay cache), on one Tollgate, rounds interleaved. The issuer is a JWKS served from this script
(ES256 tokens signed with `cryptography`); proofs are made before each round, one per request.
Reports req/s, the ratio, and server CPU per request from /proc/PID/stat.

Usage: bench/dpop.py --tollgate BIN --work DIR [--quick]"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import statistics
import sys
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from loopback import Processes, request, wait_until  # noqa: E402
import bench  # noqa: E402  (its wrk runner)
from audit import cpu_ticks  # noqa: E402

TOLLGATE_PORT, ISSUER_PORT = 18940, 18941
ISSUER = "http://127.0.0.1:%d" % ISSUER_PORT
TARGET = "https://pacs.example/dicom-web/studies"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key):
    numbers = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}


def es256(key, header, claims):
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def serve_jwks(jwk):
    document = json.dumps({"keys": [dict(jwk, kid="bench", use="sig", alg="ES256")]}).encode()

    class JWKS(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", ISSUER_PORT), JWKS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def config():
    return """server: {host: 127.0.0.1, port: %d}
log: {level: warning, format: json, access: false}
inbound:
  cache: {max_entries: 10000, max_ttl_seconds: 300}
  dpop: {proof_max_age_seconds: 600, replay_cache_entries: 5000000}
  issuers:
    - {name: bench, issuer: "%s", mode: jwt, discovery: false, jwks_uri: "%s/jwks", algorithms: [ES256]}
""" % (TOLLGATE_PORT, ISSUER, ISSUER)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, seconds = (1, 2) if args.quick else (int(os.environ.get("DPOP_BENCH_ROUNDS", 5)), int(os.environ.get("DPOP_BENCH_SECONDS", 8)))
    os.makedirs(args.work, exist_ok=True)
    issuer_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server = serve_jwks(public_jwk(issuer_key))
    client_jwk = public_jwk(client_key)
    thumbprint = b64(hashlib.sha256(json.dumps({k: client_jwk[k] for k in ["crv", "kty", "x", "y"]}, separators=(",", ":")).encode()).digest())
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "bench", "client_id": "bench", "scope": "read", "iat": now, "exp": now + 3600}
    bearer = es256(issuer_key, {"alg": "ES256", "kid": "bench", "typ": "at+jwt"}, claims)
    bound = es256(issuer_key, {"alg": "ES256", "kid": "bench", "typ": "at+jwt"}, dict(claims, cnf={"jkt": thumbprint}))
    ath = b64(hashlib.sha256(bound.encode()).digest())
    procs = Processes(args.work)
    try:
        path = os.path.join(args.work, "dpop.yaml")
        with open(path, "w") as out:
            out.write(config())
        procs.start("dpop", [args.tollgate, "serve", "--config", path])
        if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % TOLLGATE_PORT)[0] == 200, 30):
            raise SystemExit("bench/dpop.py: Tollgate not ready")
        pid = procs.running["dpop"].pid
        hz = os.sysconf("SC_CLK_TCK")
        url = "http://127.0.0.1:%d/auth" % TOLLGATE_PORT
        results = {}
        for round_number in range(rounds + 1):  # round 0 warms up and is not counted
            # Enough proofs for the fastest this machine answers plain cached /auth: one each, never reused.
            count = seconds * 40000
            proofs_file = os.path.join(args.work, "proofs.txt")
            with open(proofs_file, "w") as out:
                header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": client_jwk}
                for _ in range(count):
                    out.write(es256(client_key, header, {"jti": uuid.uuid4().hex, "htm": "GET", "htu": TARGET, "iat": int(time.time()), "ath": ath}) + "\n")
            for name, options in [("bearer", dict(token=bearer)), ("dpop", dict(script="dpop.lua", env={"TOKEN": bound, "PROOFS_FILE": proofs_file}))]:
                before = cpu_ticks(pid)
                rps, _, p99, answered = bench.wrk(url, seconds, **options)
                cpu_us = (cpu_ticks(pid) - before) / hz / max(answered, 1) * 1e6
                if round_number:
                    results.setdefault(name, []).append((rps, p99, cpu_us))
        print("| cached `/auth` | req/s | p99 ms | CPU µs/req |")
        print("|---|---:|---:|---:|")
        for name, label in [("bearer", "Bearer token"), ("dpop", "DPoP-bound token + proof")]:
            rows = results[name]
            print("| %s | %.0f | %.2f | %.1f |" % (label, statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows),
                                                 statistics.median(r[2] for r in rows)))
        ratio = statistics.median(d[0] / b[0] for b, d in zip(results["bearer"], results["dpop"]))
        print("DPoP/Bearer req/s: %.2f× (median of %d interleaved rounds of %d s; each proof used once)" % (ratio, rounds, seconds))
    finally:
        procs.stop_all()
        server.shutdown()


if __name__ == "__main__":
    main()

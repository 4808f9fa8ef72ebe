#!/usr/bin/env python3
"""Instructions per cached `/auth` request with 20 forward-auth rules (the request matches the
last one), counted by `valgrind --tool=callgrind`: a figure that does not move with machine noise,
for comparing two builds (`--baseline`) of the rule checks.

Each build runs twice under callgrind, counting only while it answers N and then 3N identical
requests on one keep-alive connection after a warm-up (instrumentation is switched on and off with
callgrind_control, so start-up, with its random RSA key search, is never counted); the difference
of the two counts over 2N requests is the cost of one request, whatever else ran in the window
cancelled out as well as it can be.

`--router` also counts the same build with `server.event_loop_answers: false`: the event loop's
answer against the router's, for the same request.

Usage: bench/auth-instructions.py --tollgate BIN [--router] [--baseline BIN] [--requests N]"""

import argparse
import glob
import http.client
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from forward import tollgate_config  # noqa: E402
from loopback import request  # noqa: E402
import callgrind  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def per_request(binary, requests, work, event_loop=True):
    # The listen port comes from TOLLGATE_PORT; the outbound server (readiness waits for its token) is this Tollgate's dev issuer.
    text = tollgate_config(REPO, 65535, True).replace("127.0.0.1:65535", "127.0.0.1:{PORT}")
    assert "{PORT}" in text
    if not event_loop:
        text = text.replace("  max_body_bytes: 65536\n", "  max_body_bytes: 65536\n  event_loop_answers: false\n", 1)
        assert "event_loop_answers: false" in text

    def prepare(port):
        _, _, body = request("POST", "http://127.0.0.1:%d/dev-issuer/token" % port, body=b"grant_type=client_credentials&scope=read",
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "Authorization": "Basic dG9sbGdhdGUtZGV2OnRvbGxnYXRlLWRldi1zZWNyZXQ="}, timeout=60)
        token = re.search(r'"access_token":"([^"]+)"', body.decode()).group(1)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": "Bearer " + token, "X-Original-Method": "GET",
                   "X-Original-URI": "/dicom-web/studies/1.2.3/series?limit=10"}

        def ask(count):
            for _ in range(count):
                connection.request("GET", "/auth", headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.status != 200:
                    raise RuntimeError("/auth answered %d" % answer.status)
        return ask
    return callgrind.per_request(binary, text, work, prepare, requests)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--baseline")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--router", action="store_true", help="also count this build with server.event_loop_answers: false")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="tollgate-callgrind.")
    rows = [("this build", args.tollgate, True)] + ([("router", args.tollgate, False)] if args.router else [])
    rows += [("baseline", args.baseline, True)] if args.baseline else []
    results = {}
    for name, binary, event_loop in rows:
        results[name] = per_request(binary, args.requests, work, event_loop)
        print("%-10s %10.0f instructions per cached /auth request (20 rules)" % (name, results[name]), flush=True)
    for other in ("router", "baseline"):
        if other in results:
            print("this build / %s: %.3f×" % (other, results["this build"] / results[other]))
    for path in glob.glob(os.path.join(work, "*")):
        if os.path.isfile(path):
            os.remove(path)


if __name__ == "__main__":
    main()

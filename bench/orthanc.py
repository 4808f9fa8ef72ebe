#!/usr/bin/env python3
"""What Orthanc users feel: Orthanc 1.10 (Debian) guarded by the shipped Python filter
(docker/orthanc/tollgate_filter.py, asking Tollgate's POST /orthanc/authorize) against the same
Orthanc with no filter. Both hold the same studies; wrk drives QIDO-RS `GET /dicom-web/studies`
and a WADO-RS instance GET at 8 concurrent clients, every target in interleaved rounds, with the
spread of the rounds. The filter caches Tollgate's answers for the validity Tollgate returns, so
Tollgate is asked once per token and URI, which the run counts.

Usage: bench/orthanc.sh [--rounds N] [--seconds S]   (needs orthanc, orthanc-dicomweb,
orthanc-python, wrk and pydicom; bench/orthanc.sh installs them). Prints a Markdown table.
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "e2e"))
from loopback import Processes, as_json, free_port, request, wait_until  # noqa: E402
from bench import wrk  # noqa: E402
from e2e import make_dicom, orthanc_config  # noqa: E402

REPO = os.path.join(HERE, "..")
WEBSERVICE_SECRET = "bench-webservice-s3cret"
STUDIES = 10
CLIENTS = 8


def start_tollgate(procs, work, port):
    with open(os.path.join(REPO, "config.yaml")) as shipped:
        config = shipped.read() + """
orthanc:
  webservice_username: orthanc
  webservice_password: "%s"
  permissions:
    role_claims: [scope]
    roles:
      read: {permissions: [view, download], authorized-labels: ["*"]}
      write: {permissions: [upload], authorized-labels: ["*"]}
""" % WEBSERVICE_SECRET
    path = os.path.join(work, "tollgate.yaml")
    with open(path, "w") as out:
        out.write(config)
    procs.start("tollgate", [ARGS.tollgate, "serve", "--config", path],
                {"TOLLGATE_PORT": str(port), "TOLLGATE_DEV_MODE": "auto", "TOLLGATE_DATA_DIR": os.path.join(work, "tollgate-data")})
    if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % port)[0] == 200, 30, 0.05):
        raise RuntimeError("tollgate did not become ready; see %s/tollgate.log" % work)
    basic = base64.b64encode(b"tollgate-dev:tollgate-dev-secret").decode()
    status, _, body = request("POST", "http://127.0.0.1:%d/dev-issuer/token" % port, body=b"grant_type=client_credentials&scope=read%20write",
                              headers={"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise RuntimeError("dev issuer answered %d" % status)
    return as_json(body)["access_token"]


def start_orthanc(procs, work, name, tollgate_port, guarded):
    http_port, dicom_port = free_port(), free_port()
    extra = {"RemoteAccessAllowed": False}
    if guarded:
        filter_path = os.path.join(work, "tollgate_filter.py")
        shutil.copy(os.path.join(REPO, "docker", "orthanc", "tollgate_filter.py"), filter_path)
        extra.update({"Plugins": ["/usr/lib/orthanc/libOrthancDicomWeb.so.1.7", "/usr/lib/orthanc/libOrthancPython.so.4.0"],
                      "PythonScript": filter_path,
                      "Tollgate": {"Url": "http://127.0.0.1:%d" % tollgate_port, "Username": "orthanc", "Password": WEBSERVICE_SECRET}})
    procs.start(name, ["/usr/sbin/Orthanc", orthanc_config(work, name, http_port, dicom_port, extra)])
    base = "http://127.0.0.1:%d" % http_port
    if not wait_until(lambda: request("GET", base + "/system")[0] in (200, 403), 30, 0.1):
        raise RuntimeError("%s did not start; see %s/%s.log" % (name, work, name))
    return base


def load_studies(base, token):
    """The same studies in each Orthanc; returns the WADO-RS path of the last instance."""
    path = None
    for index in range(STUDIES):
        study, series, instance = ("1.2.826.0.1.3680043.10.1337.%d.%d" % (index, part) for part in (1, 2, 3))
        status, _, _ = request("POST", base + "/instances", body=make_dicom("BENCH%d" % index, study, series, instance),
                               headers={"Authorization": "Bearer " + token, "Content-Type": "application/dicom"})
        if status != 200:
            raise RuntimeError("upload to %s answered %d" % (base, status))
        path = "/dicom-web/studies/%s/series/%s/instances/%s" % (study, series, instance)
    return path


def authorize_calls(port):
    _, _, body = request("GET", "http://127.0.0.1:%d/metrics" % port)
    total = 0
    for line in body.decode().splitlines():
        if line.startswith("tollgate_http_request_duration_seconds_count{") and "/orthanc/authorize" in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    ARGS = parser.parse_args()
    ARGS.tollgate = os.path.abspath(ARGS.tollgate)
    procs = Processes(ARGS.work)
    try:
        print(run(procs, ARGS.work)[0])
    finally:
        procs.stop_all()


def run(procs, work):
    tollgate_port = free_port()
    token = start_tollgate(procs, work, tollgate_port)
    plain = start_orthanc(procs, work, "plain", tollgate_port, guarded=False)
    guarded = start_orthanc(procs, work, "guarded", tollgate_port, guarded=True)
    if request("GET", guarded + "/dicom-web/studies")[0] != 403:
        raise RuntimeError("the guarded Orthanc let a request without a token through")
    wado = load_studies(plain, token)
    load_studies(guarded, token)
    rows = [("QIDO-RS `GET /dicom-web/studies`", "/dicom-web/studies"), ("WADO-RS instance `GET`", wado)]
    plan = [(label, side, base + path) for label, path in rows for side, base in (("plain", plain), ("guarded", guarded))]
    calls_before = authorize_calls(tollgate_port)
    for _, _, url in plan:
        wrk(url, 2, token=token, connections=CLIENTS)  # warm-up; raises on any non-2xx
    results = {(label, side): [] for label, side, _ in plan}
    for round_number in range(1, ARGS.rounds + 1):
        for label, side, url in plan:
            results[(label, side)].append(wrk(url, ARGS.seconds, token=token, connections=CLIENTS))
            print("round %d %-34s %-8s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms" % ((round_number, label, side) + results[(label, side)][-1][:3]),
                  flush=True)
    calls = authorize_calls(tollgate_port) - calls_before  # includes the warm-up's
    requests = sum(run[3] for runs in results.values() for run in runs)
    return report(results, rows, calls, requests)


def spread(values, fmt="%.0f"):
    return "%s (%s–%s)" % (fmt % statistics.median(values), fmt % min(values), fmt % max(values))


def report(results, rows, calls, requests):
    """(Markdown, {row label: filter / no-filter throughput})."""
    ratios = {}
    lines = ["Orthanc 1.10 with the shipped filter vs the same Orthanc without it: `wrk -t1 -c%d`, %d interleaved rounds of %d s, "
             "medians (spread of rounds)." % (CLIENTS, ARGS.rounds, ARGS.seconds), "",
             "| request | no filter req/s | filter req/s | × no filter | p50 ms no filter → filter | p99 ms no filter → filter | ≥ 0.9× |",
             "|---|---|---|---|---|---|---|"]
    for label, _ in rows:
        plain, guarded = results[(label, "plain")], results[(label, "guarded")]
        ratio = ratios[label] = statistics.median(g[0] for g in guarded) / statistics.median(p[0] for p in plain)
        lines.append("| %s | %s | %s | %.2f× | %s → %s | %s → %s | %s |" % (
            label, spread([p[0] for p in plain]), spread([g[0] for g in guarded]), ratio,
            "%.2f" % statistics.median(p[1] for p in plain), "%.2f" % statistics.median(g[1] for g in guarded),
            "%.2f" % statistics.median(p[2] for p in plain), "%.2f" % statistics.median(g[2] for g in guarded),
            "yes" if ratio >= 0.9 else "**no**"))
    lines += ["", "The filter asked Tollgate %d times (warm-up included) for the %d requests of the timed rounds, both sides: "
              "it caches Tollgate's answers for the validity Tollgate returns." % (calls, requests)]
    return "\n".join(lines) + "\n", ratios


ARGS = None
if __name__ == "__main__":
    main()

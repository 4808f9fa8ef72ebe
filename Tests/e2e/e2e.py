#!/usr/bin/env python3
"""Tollgate end to end with real components on loopback: Glewlwyd (IdP), Orthanc B (DICOMweb
server guarded by tollgate_filter.py), Orthanc A (DICOMweb client of B, kept fresh by Tollgate's
push, and through Tollgate's proxy), and two Tollgates (auto mode; introspection mode).

Prints one line per check and "N passed, M failed" last. Called by Tests/e2e/run.sh."""

import argparse
import http.client
import http.cookiejar
import io
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "lib"))
from loopback import Processes, as_json, glewlwyd_token, request, start_glewlwyd, wait_until  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward_auth  # noqa: E402
from tollgate_configs import audit_file, glewlwyd_inbound  # noqa: E402
import audit_trail  # noqa: E402
import orthanc_plugin  # noqa: E402
import image  # noqa: E402
import certificate_bound  # noqa: E402
import dpop  # noqa: E402

PORT = dict(glewlwyd=18560, nginx_tls=18608, nginx_tls_out=18609, tg=18580, tg2=18581, a=18642, a_dicom=14642, b=18643, b_dicom=14643, nginx=18590, nginx_out=18591, tg3=18582, tg4=18583, tg5=18584, tg6=18585, tg7=18586, postgres=18599 - 100, closed=18599)
# Issue 27's proxies (Tests/e2e/forward_auth.py): Orthanc C behind nginx, ingress-nginx's template, Caddy, and nginx in a network namespace.
FA_PORT = dict(c=18644, c_dicom=14644, tg_nginx=18587, tg_ingress=18588, tg_caddy=18589, tg_trusted=18592, nginx_fa=18593, nginx_fa_out=18594,
               nginx_ingress=18595, caddy=18596, caddy_admin=18597, ns_untrusted=18601, ns_trusted=18602)
# Issue 28: Orthanc 1.12.10 + the official authorization plugin, Tollgate as its web service, a recording relay between.
PLUGIN_PORT = dict(orthanc=18645, dicom=14645, tg=18603, relay=18604)
# Issue 32: a Glewlwyd with its webapp and a Tollgate with the console.
CONSOLE_PORT = dict(glewlwyd=18610, tg=18611)
# Issue 31: two audited Tollgates and rsyslog (TLS).
AUDIT_PORT = dict(tg=18605, tg_fhir=18606, syslog=18607)
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SECRETS = dict(rs="rs-introspect-s3cret", orthanc_a="orthanc-a-out-s3cret", reader="caller-read-s3cret",
               writer="caller-write-s3cret", admin="caller-admin-s3cret", api_key="e2e-admin-api-key-0123456789",
               webservice="orthanc-webservice-s3cret", registry_client="registry-client-s3cret", radiologist="radiologist-pa55word",
               deleter="caller-delete-s3cret", ward="caller-ward-s3cret",
               registry_key="kOz3bq5fXyKkJ8Gg2H2iZ0bG8aQm4u5Q1l7T9eR3wYc=")
REGISTRY_CALLBACK = "http://127.0.0.1:%d/oauth/callback/glewlwyd-code" % PORT["tg4"]
PUBLIC_CALLBACK = "http://127.0.0.1:%d/api/oauth/callback/glewlwyd-public" % PORT["tg4"]
TOKEN_SECONDS = 20


class Suite:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.started = time.monotonic()

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS  " + name, flush=True)
        else:
            self.failed += 1
            print("FAIL  " + name + ("  -- " + detail if detail else ""), flush=True)
        return ok


# ---------------------------------------------------------------- Tollgate and Orthanc

def tollgate_config(port, glewlwyd, mode):
    return glewlwyd_inbound(port, glewlwyd, mode, default_for_opaque=True) + dpop.INBOUND_NONCES + """outbound:
  servers:
%s""" % dpop.outbound_server("nginx-dpop", glewlwyd, PORT["nginx"], "caller-read", "${E2E_READER_SECRET}", "dicom.read") + """
    orthanc-b:
      url: http://127.0.0.1:%d/dicom-web/
      token_endpoint: %s/api/oidc/token
      client_id: orthanc-a
      client_secret: "${E2E_ORTHANC_A_SECRET}"
      scope: dicom.read dicom.write
      refresh_buffer_seconds: 5
admin:
  auth_mode: api_key
  api_keys: ["${E2E_API_KEY}"]
forward_auth:
  status_on_unavailable: 401
  default: deny
%s  rules:
    - {name: dicomweb-read, methods: [GET, HEAD], path: "^/dicom-web/", scopes: [dicom.read]}
    - {name: dicomweb-write, path: "^/dicom-web/", scopes: [dicom.write]}
    - {name: uploads, methods: [POST], path: "^/instances$", scopes: [dicom.write]}
orthanc:
  webservice_username: orthanc
  webservice_password: "${E2E_WEBSERVICE_SECRET}"
  permissions:
    role_claims: [scope]
    roles:
      dicom.read: {permissions: [view, download], authorized-labels: ["*"]}
      dicom.write: {permissions: [view, download, upload], authorized-labels: ["*"]}
      orthanc.admin: {permissions: [admin-permissions, settings], authorized-labels: ["*"]}
  url: http://127.0.0.1:%d
  check_interval_seconds: 2
  dicomweb_servers:
    b: {outbound_server: orthanc-b, extra: {HasDelete: true}}
""" % (PORT["b"], glewlwyd, certificate_bound.FORWARDED_CERTIFICATE, PORT["a"])


TOLLGATE_ENV = {"E2E_RS_SECRET": SECRETS["rs"], "E2E_ORTHANC_A_SECRET": SECRETS["orthanc_a"], "E2E_API_KEY": SECRETS["api_key"],
                "E2E_READER_SECRET": SECRETS["reader"],
                "E2E_WEBSERVICE_SECRET": SECRETS["webservice"]}
WEBSERVICE = {"Authorization": "Basic " + __import__("base64").b64encode(("orthanc:" + SECRETS["webservice"]).encode()).decode(),
              "Content-Type": "application/json"}


def orthanc_config(work, name, http_port, dicom_port, extra):
    directory = os.path.join(work, name)
    os.makedirs(os.path.join(directory, "storage"), exist_ok=True)
    config = {"Name": name, "StorageDirectory": directory + "/storage", "IndexDirectory": directory + "/storage",
              "HttpPort": http_port, "DicomPort": dicom_port, "DicomAet": "ORTHANC" + name,
              "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
              "Plugins": ["/usr/lib/orthanc/libOrthancDicomWeb.so.1.7"], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}}
    config.update(extra)
    path = os.path.join(directory, "config.json")
    with open(path, "w") as out:
        json.dump(config, out, indent=1)
    return path


def make_dicom(patient_id, study_uid, series_uid, instance_uid):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = instance_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.PatientID = patient_id
    ds.PatientName = "TOLLGATE^E2E"
    ds.Modality = "OT"
    ds.StudyDate = "20260101"
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(range(16))
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def console_secrets():
    """The console's users and clients, for the leak check (imported here: Selenium is only the suite's)."""
    import console_browser  # noqa: E402
    return console_browser.SECRETS


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--filter", required=True)
    parser.add_argument("--fhir-path", required=True, help="PYTHONPATH holding PyPI fhir.resources")
    parser.add_argument("--image", help="scripts/build-image.sh's output: the container image, unpacked, to run as shipped")
    args = parser.parse_args()
    work = args.work
    suite = Suite()
    procs = Processes(work)
    used_tokens = []
    try:
        run(suite, procs, work, args, used_tokens)
    except Exception as error:  # a broken setup is a failure, not a crash
        suite.check("suite ran to the end", False, "%s: %s" % (type(error).__name__, error))
    finally:
        procs.stop_all()
    # 7. No token or secret in any log of the run (Tollgate, Orthanc, the filter's lines in Orthanc's log).
    logs = {}
    names = ["tollgate", "tollgate2", "tollgate4", "tollgate5", "tollgate6", "tollgate7", "orthanc-a", "orthanc-b",
             "tollgate-fa-nginx", "tollgate-fa-ingress", "tollgate-fa-caddy", "tollgate-fa-trusted", "orthanc-c", "caddy",
             "tollgate-plugin", "orthanc-plugin"]
    # The audit trails of the whole run, and what rsyslog received, too.
    names += ["tollgate.audit.jsonl", "tollgate2.audit.jsonl", "tollgate-plugin.audit.jsonl", "audit/received.log",
              "audit/tollgate-audit.audit", "audit/tollgate-audit-fhir.audit"]
    names += ["image-tollgate"] if args.image else []
    names += ["tollgate-console"]
    for name in names:
        path = os.path.join(work, name if "." in name else name + ".log")
        if os.path.exists(path):
            with open(path, "rb") as log:
                logs[name] = log.read().decode("utf-8", "replace")
    leaks = [(name, "token" if value in used_tokens else "secret")
             for value in used_tokens + list(SECRETS.values()) + console_secrets() for name, text in logs.items() if value and value in text]
    suite.check("7. no token or secret in any log (%d tokens, %d secrets, %d logs)" % (len(used_tokens), len(SECRETS), len(logs)),
                not leaks and len(logs) == len(names), str(leaks[:5]))
    elapsed = time.monotonic() - suite.started
    print("e2e duration: %.0f s; logs in %s" % (elapsed, work))
    print("%d passed, %d failed" % (suite.passed, suite.failed))
    if suite.failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if suite.failed == 0 else 1)


def run(suite, procs, work, args, used_tokens):
    # 1. Glewlwyd.
    glewlwyd = start_glewlwyd(
        procs, os.path.join(work, "glewlwyd"), PORT["glewlwyd"], ["dicom.read", "dicom.write", "orthanc.admin", "orthanc.delete", "ward.a", "introspect"],
        [("tollgate-rs", SECRETS["rs"], ["introspect"]), ("orthanc-a", SECRETS["orthanc_a"], ["dicom.read", "dicom.write"]),
         ("caller-read", SECRETS["reader"], ["dicom.read"]), ("caller-write", SECRETS["writer"], ["dicom.read", "dicom.write"]),
         ("caller-admin", SECRETS["admin"], ["orthanc.admin"]), ("caller-delete", SECRETS["deleter"], ["orthanc.delete"]),
         ("caller-ward", SECRETS["ward"], ["ward.a"])],
        TOKEN_SECONDS, oidc_extra={"refresh-token-one-use": "always", "pkce-allowed": True, **dpop.GLEWLWYD_DPOP,
                    **certificate_bound.GLEWLWYD_HEADER_CERTIFICATE},
        code_clients=[("tollgate-registry", SECRETS["registry_client"], ["dicom.read"], REGISTRY_CALLBACK)],
        public_clients=[("tollgate-public", ["dicom.read"], PUBLIC_CALLBACK)],
        tls_clients=[(certificate_bound.CLIENT_ID, ["dicom.read"], certificate_bound.DNS_NAME)],
        users=[("radiologist", SECRETS["radiologist"], ["openid", "dicom.read"])])
    reader = glewlwyd_token(glewlwyd, "caller-read", SECRETS["reader"], "dicom.read")
    writer = glewlwyd_token(glewlwyd, "caller-write", SECRETS["writer"], "dicom.read dicom.write")
    admin = glewlwyd_token(glewlwyd, "caller-admin", SECRETS["admin"], "orthanc.admin")
    used_tokens += [reader, writer, admin]
    suite.check("1. Glewlwyd issues %d s JWT access tokens" % TOKEN_SECONDS, reader.count(".") == 2)

    # Orthanc B first: Tollgate's proxy and push target it. Its filter asks Tollgate (auto mode).
    filter_path = os.path.join(work, "tollgate_filter.py")
    shutil.copy(args.filter, filter_path)
    b_extra = {"Plugins": ["/usr/lib/orthanc/libOrthancDicomWeb.so.1.7", "/usr/lib/orthanc/libOrthancPython.so.4.0"],
               "PythonScript": filter_path,
               "Tollgate": {"Url": "http://127.0.0.1:%d" % PORT["tg"], "TimeoutSeconds": 2, "UncheckedUris": [],
                            "Username": "orthanc", "Password": SECRETS["webservice"]}}
    b_config = orthanc_config(work, "b", PORT["b"], PORT["b_dicom"], b_extra)
    b = "http://127.0.0.1:%d" % PORT["b"]
    # Default verbosity: at --verbose Orthanc's DICOMweb plugin logs QIDO arguments, share-link
    # ?token= included. Check 3i turns verbose on through the REST API for its own requests only.
    procs.start("orthanc-b", ["/usr/sbin/Orthanc", b_config])
    a_config = orthanc_config(work, "a", PORT["a"], PORT["a_dicom"], {"DicomWeb": {"Enable": True, "Root": "/dicom-web/", "Servers": {
        "b": {"Url": b + "/dicom-web/", "HttpHeaders": {"Authorization": "Bearer stale-from-config-file"}},
        "bp": {"Url": "http://127.0.0.1:%d/proxy/orthanc-b/" % PORT["tg"], "HttpHeaders": {"X-API-Key": SECRETS["api_key"]}},
    }}})
    a = "http://127.0.0.1:%d" % PORT["a"]
    procs.start("orthanc-a", ["/usr/sbin/Orthanc", a_config])

    # 2. Tollgate against Glewlwyd (auto: JWTs by JWKS, the rest by introspection), and a second one
    #    in introspection mode for the revocation check.
    for name, port, mode in [("tollgate", PORT["tg"], "auto"), ("tollgate2", PORT["tg2"], "introspection")]:
        path = os.path.join(work, name + ".yaml")
        with open(path, "w") as out:
            out.write(tollgate_config(port, glewlwyd, mode) + audit_file(os.path.join(work, name + ".audit.jsonl")))
        procs.start(name, [args.tollgate, "serve", "--config", path], env=TOLLGATE_ENV)
    tg = "http://127.0.0.1:%d" % PORT["tg"]
    tg2 = "http://127.0.0.1:%d" % PORT["tg2"]
    ready = wait_until(lambda: request("GET", tg + "/ready")[0] == 200 and request("GET", tg2 + "/ready")[0] == 200, 30)
    suite.check("2. Tollgate ready against Glewlwyd (JWKS loaded, introspection probed, outbound token held)", ready,
                request("GET", tg + "/ready")[2][:300].decode())
    wait_until(lambda: request("GET", a + "/system")[0] == 200 and request("GET", b + "/system")[0] in (200, 403), 20)

    # 3. Orthanc B guarded by the filter.
    qido = b + "/dicom-web/studies"
    suite.check("3a. B: no token -> 403", request("GET", qido)[0] == 403)
    suite.check("3b. B: garbage token -> 403", request("GET", qido, headers={"Authorization": "Bearer garbage.token.here"})[0] == 403)
    status = request("GET", qido, headers={"Authorization": "Bearer " + reader})[0]
    suite.check("3c. B: read token -> QIDO 200", status == 200, str(status))
    first = make_dicom("E2E-1", "1.2.826.0.1.3680043.10.543.1", "1.2.826.0.1.3680043.10.543.1.1", "1.2.826.0.1.3680043.10.543.1.1.1")
    # The filter logs denials at info: verbose for 3d-3h (PUT /tools/log-level needs the settings permission).
    verbose = request("PUT", b + "/tools/log-level", b"verbose", {"Authorization": "Bearer " + admin})[0]
    status = request("POST", b + "/instances", first, {"Authorization": "Bearer " + reader, "Content-Type": "application/dicom"})[0]
    suite.check("3d. B: upload with the read token -> 403", status == 403, str(status))
    status = request("POST", b + "/instances", first, {"Authorization": "Bearer " + writer, "Content-Type": "application/dicom"})[0]
    suite.check("3e. B: upload with the write token -> 200", status == 200, str(status))
    status = request("POST", b + "/dicom-web/studies", first, {"Authorization": "Bearer " + reader, "Content-Type": "application/dicom"})[0]
    suite.check("3f. B: STOW with the read token (view) -> 403", status == 403, str(status))
    jobs = [request("GET", b + "/jobs", headers={"Authorization": "Bearer " + t})[0] for t in (writer, admin)]
    suite.check("3g. B: /jobs needs admin-permissions: write token 403, admin token 200", jobs == [403, 200], str(jobs))
    status = request("GET", qido, headers={"Authorization": "Bearer " + admin})[0]
    suite.check("3h. B: admin-permissions alone does not read studies -> 403", status == 403, str(status))
    quiet = request("PUT", b + "/tools/log-level", b"default", {"Authorization": "Bearer " + admin})[0]
    with open(os.path.join(work, "orthanc-b.log"), errors="replace") as log:
        denials = [line for line in log if "tollgate filter: denied" in line]
    suite.check("3i. B: the filter logs each denial at info, with method, path and Tollgate's reason (log level set %s, reset %s)" % (verbose, quiet),
                verbose == 200 and quiet == 200 and any("denied POST /instances: no permission" in line for line in denials)
                and any("denied GET /jobs" in line for line in denials), str(denials[:3]))
    check_share_link(suite, b, tg, writer, used_tokens)

    # 9. The shipped nginx example in front of Orthanc A (no filter there: nginx alone guards it).
    check_nginx(suite, procs, work, reader, writer, args.tollgate, glewlwyd, used_tokens)

    # 12. Forward-auth that fails closed, through real proxies in front of Orthanc C (issue 27).
    clients = {"reader": ("caller-read", SECRETS["reader"], "dicom.read"), "writer": ("caller-write", SECRETS["writer"], "dicom.read dicom.write"),
               "admin": ("caller-admin", SECRETS["admin"], "orthanc.admin"), "deleter": ("caller-delete", SECRETS["deleter"], "orthanc.delete"),
               "ward": ("caller-ward", SECRETS["ward"], "ward.a")}
    mint = lambda kind: glewlwyd_token(glewlwyd, *clients[kind])  # noqa: E731
    forward_auth.check_proxies(suite, procs, work, args.tollgate, glewlwyd, mint, TOLLGATE_ENV, FA_PORT, used_tokens)

    # 13. Orthanc 1.12.10 with the official authorization plugin, Tollgate as its web service (issue 28).
    orthanc_plugin.check_plugin(suite, procs, work, args.tollgate, glewlwyd, mint, TOLLGATE_ENV, SECRETS, PLUGIN_PORT, used_tokens, make_dicom)

    # 31. The audit trail to rsyslog over TLS, killed and restarted midway; FHIR validated.
    audit_trail.check_audit(suite, procs, work, args.tollgate, AUDIT_PORT, used_tokens, args.fhir_path)

    # 32. The web console in headless Chromium, signed in through Glewlwyd's own pages.
    import console_browser  # noqa: E402  (Selenium: only the suite itself needs it, not the benchmarks importing this file)
    console_browser.check(suite, work, procs, args.tollgate, CONSOLE_PORT["glewlwyd"], CONSOLE_PORT["tg"])

    # 33. The container image, run as shipped against Glewlwyd (when CI built it).
    if args.image:
        image.check_image(suite, procs, work, args.image, glewlwyd, SECRETS["rs"],
                          lambda: glewlwyd_token(glewlwyd, "caller-read", SECRETS["reader"], "dicom.read"), used_tokens)

    # 4 and 5. A reaches B through the pushed definition (b) and through Tollgate's proxy (bp).
    pushed = wait_until(lambda: "TollgateTokenExpires" in request("GET", a + "/dicom-web/servers?expand")[2].decode(), 20)
    suite.check("4a. Tollgate pushed b's definition into Orthanc A", pushed)
    study, series, instance = "1.2.826.0.1.3680043.10.543.1", "1.2.826.0.1.3680043.10.543.1.1", "1.2.826.0.1.3680043.10.543.1.1.1"
    second = make_dicom("E2E-2", "1.2.826.0.1.3680043.10.543.2", "1.2.826.0.1.3680043.10.543.2.1", "1.2.826.0.1.3680043.10.543.2.1.1")
    status, _, body = request("POST", a + "/instances", second, {"Content-Type": "application/dicom"})
    second_id = (as_json(body) or {}).get("ID")

    def loop(peer):
        results = {}
        s, _, body = request("POST", a + "/dicom-web/servers/%s/qido" % peer, {"Uri": "/studies", "Arguments": {"PatientID": "E2E-1"}})
        results["qido"] = s == 200 and study in body.decode()
        s, _, body = request("POST", a + "/dicom-web/servers/%s/get" % peer,
                             {"Uri": "/studies/%s/series/%s/instances/%s/metadata" % (study, series, instance)})
        results["get"] = s == 200 and instance in body.decode()
        s, _, body = request("POST", a + "/dicom-web/servers/%s/retrieve" % peer, {"Resources": [{"Study": study}], "Synchronous": True})
        results["retrieve"] = s == 200
        s, _, body = request("POST", a + "/dicom-web/servers/%s/stow" % peer, {"Resources": [second_id], "Synchronous": True})
        results["stow"] = s == 200
        return results

    for peer, step in [("b", "4"), ("bp", "5")]:
        results = loop(peer)
        for operation in ["qido", "get", "retrieve", "stow"]:
            suite.check("%sb. A -> %s %s" % (step, peer, operation), results[operation], str(results))

    # Across three token refreshes (20 s tokens, refreshed ~5-7 s before expiry), both paths keep working.
    def pushes():
        metrics = request("GET", tg + "/metrics")[2].decode()
        for line in metrics.splitlines():
            if line.startswith('tollgate_orthanc_push_total{orthanc_server="b",result="success"}'):
                return float(line.split()[-1])
        return 0

    pushes_before, failures, rounds = pushes(), [], 0
    deadline = time.monotonic() + 3 * TOKEN_SECONDS
    while time.monotonic() < deadline and pushes() < pushes_before + 3:
        for peer in ["b", "bp"]:
            s, _, body = request("POST", a + "/dicom-web/servers/%s/qido" % peer, {"Uri": "/studies", "Arguments": {"PatientID": "E2E-1"}})
            if s != 200:
                failures.append((peer, s))
        rounds += 1
        time.sleep(2)
    refreshed = pushes() - pushes_before
    suite.check("4c/5c. A -> b and bp keep working across %d token refreshes (%d rounds, failures %s)" % (refreshed, rounds, failures[:3]),
                refreshed >= 3 and not failures)

    # Orthanc A restarts: its config-file definition (stale header) is back; Tollgate re-pushes.
    procs.stop("orthanc-a")
    procs.start("orthanc-a", ["/usr/sbin/Orthanc", a_config])
    restarted = time.monotonic()
    wait_until(lambda: request("GET", a + "/system")[0] == 200, 20)
    works = wait_until(lambda: request("POST", a + "/dicom-web/servers/b/qido", {"Uri": "/studies"})[0] == 200, 15)
    suite.check("4d. after an Orthanc A restart, b works again within the check interval (%.1f s)" % (time.monotonic() - restarted), works)

    # 10. Runtime connections against Glewlwyd: authorization code with PKCE, one-time refresh tokens.
    check_registry(suite, procs, work, args, glewlwyd, b, used_tokens)

    # 11. Three Tollgates on one PostgreSQL: shared connections, leased one-time refreshes, eviction fan-out.
    check_replicas(suite, procs, work, args, glewlwyd, used_tokens)

    # 6. Revocation at Glewlwyd is seen through the introspection path within the cache bound.
    procs.stop("orthanc-b")
    procs.start("orthanc-b", ["/usr/sbin/Orthanc", b_config], env={"TOLLGATE_URL": tg2})
    wait_until(lambda: request("GET", b + "/system")[0] in (200, 403), 20)
    victim = glewlwyd_token(glewlwyd, "caller-read", SECRETS["reader"], "dicom.read")
    used_tokens.append(victim)
    before = request("GET", qido, headers={"Authorization": "Bearer " + victim})[0]
    # client_secret_post: Glewlwyd lets a Basic-authenticated client act on its own tokens only.
    request("POST", glewlwyd + "/api/oidc/revoke",
            urllib.parse.urlencode({"token": victim, "client_id": "tollgate-rs", "client_secret": SECRETS["rs"]}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
    revoked_at = time.monotonic()
    refused = wait_until(lambda: request("GET", qido, headers={"Authorization": "Bearer " + victim})[0] == 403, 12)
    suite.check("6. revoked token refused at B within the cache bound (%.1f s; max_ttl 5 s)" % (time.monotonic() - revoked_at),
                before == 200 and refused and time.monotonic() - revoked_at <= 8, "before=%s" % before)

    # The filter fails closed: Tollgate down -> 403 at B; a slow or odd validator -> denied within the timeout.
    procs.stop("tollgate2")
    status = request("GET", qido, headers={"Authorization": "Bearer " + reader})[0]
    suite.check("8a. Tollgate down -> B answers 403", status == 403, str(status))
    check_filter_faults(suite, args.filter)

    # Tokens Tollgate handed out during the run, for the log check.
    token = as_json(request("GET", tg + "/token/orthanc-b", headers={"X-API-Key": SECRETS["api_key"]})[2]) or {}
    if token.get("access_token"):
        used_tokens.append(token["access_token"])


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check_registry(suite, procs, work, args, glewlwyd, b, used_tokens):
    """A Tollgate with the registry on SQLite: connections made at run time against Glewlwyd with
    one-time refresh tokens, the authorization-code flow driven through Glewlwyd's own login and
    consent API (no browser), and the leak grep over the database files."""
    data = os.path.join(work, "registry-data")
    path = os.path.join(work, "tollgate4.yaml")
    with open(path, "w") as out:
        out.write("""server: {host: 127.0.0.1, port: %d}
log: {level: info, format: json}
inbound:
  issuers:
    - {name: glewlwyd, issuer: "%s/api/oidc", mode: jwt, require_typ: at+jwt}
admin: {auth_mode: api_key, api_keys: ["${E2E_API_KEY}"]}
registry:
  enabled: true
  sqlite: {path: "%s/registry.sqlite"}
  encryption: {keys: [{id: e2e-1, key: "${E2E_REGISTRY_KEY}"}]}
  callback_base_url: http://127.0.0.1:%d
  expose_refresh_tokens: true   # check 10l reads the refresh token to show Glewlwyd refusing it once revoked
""" % (PORT["tg4"], glewlwyd, data, PORT["tg4"]))
    procs.start("tollgate4", [args.tollgate, "serve", "--config", path], env={**TOLLGATE_ENV, "E2E_REGISTRY_KEY": SECRETS["registry_key"]})
    tg = "http://127.0.0.1:%d" % PORT["tg4"]
    wait_until(lambda: request("GET", tg + "/ready")[0] == 200, 30)
    admin = {"X-API-Key": SECRETS["api_key"]}
    issuer = glewlwyd + "/api/oidc"

    # 10a. A client-credentials connection made at run time, used through /proxy to Orthanc B (its filter asks Tollgate).
    status, _, body = request("POST", tg + "/oauth/connections", {
        "connection_name": "glewlwyd-cc", "oauth_flow_type": "client_credentials", "client_id": "caller-read",
        "client_secret": SECRETS["reader"], "token_url": issuer + "/token", "scopes": "dicom.read", "url": b + "/dicom-web/"}, admin)
    proxied = request("GET", tg + "/proxy/glewlwyd-cc/studies", headers=admin)
    suite.check("10a. runtime client-credentials connection: QIDO at B through /proxy -> 200", status == 201 and proxied[0] == 200,
                "%s %s / %s %s" % (status, body[:160], proxied[0], proxied[2][:160]))

    # 10b. The authorization-code flow with openid: Tollgate's authorize URL (PKCE, nonce), Glewlwyd's login and
    # consent, the redirect back; the ID token is checked against Glewlwyd's JWKS before anything is kept.
    request("POST", tg + "/oauth/connections", {
        "connection_name": "glewlwyd-code", "oauth_flow_type": "authorization_code", "client_id": "tollgate-registry",
        "client_secret": SECRETS["registry_client"], "token_url": issuer + "/token", "authorization_url": issuer + "/auth",
        "issuer": issuer, "scopes": "openid dicom.read", "url": b + "/dicom-web/"}, admin)
    started = as_json(request("POST", tg + "/oauth/connections/glewlwyd-code/authorize", b"", admin)[2]) or {}
    url = started.get("authorization_url", "")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    user = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects)
    login = request("POST", glewlwyd + "/api/auth/", {"username": "radiologist", "password": SECRETS["radiologist"]}, opener=user)[0]
    grant = request("PUT", glewlwyd + "/api/auth/grant/tollgate-registry", {"scope": "openid dicom.read"}, opener=user)[0]
    status, headers, _ = request("GET", url + "&g_continue", opener=user)
    location = headers.get("Location", "")
    suite.check("10b. Glewlwyd redirects back with a code (openid with a nonce, PKCE S256, login %s, consent %s)" % (login, grant),
                status == 302 and location.startswith(REGISTRY_CALLBACK + "?") and "code=" in location
                and query.get("code_challenge_method") == ["S256"] and len(query.get("nonce", [""])[0]) >= 43, "%s %s" % (status, location[:120]))
    status, _, body = request("GET", location)
    suite.check("10c. the callback exchanges the code and checks Glewlwyd's ID token (signature, iss, aud, exp, nonce): completed",
                status == 200 and (as_json(body) or {}).get("status") == "completed", "%s %s" % (status, body[:200]))
    replay = request("GET", location)
    suite.check("10d. the same callback again -> 400 INVALID_STATE", replay[0] == 400 and (as_json(replay[2]) or {}).get("error") == "INVALID_STATE")
    credentials = as_json(request("GET", tg + "/oauth/credentials/glewlwyd-code", headers=admin)[2]) or {}
    user_token = credentials.get("access_token", "")
    used_tokens.append(user_token)
    status = request("GET", b + "/dicom-web/studies", headers={"Authorization": "Bearer " + user_token})[0]
    suite.check("10e. the user's token from the credentials endpoint reads B's studies", status == 200 and user_token.count(".") == 2, str(status))

    # 10f. One-time refresh tokens: sequential and 20 concurrent forced refreshes, never invalid_grant.
    import concurrent.futures
    sequential = [request("POST", tg + "/oauth/connections/glewlwyd-code/test", b"", admin)[0] for _ in range(3)]
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        concurrent_statuses = list(pool.map(lambda _: request("POST", tg + "/oauth/connections/glewlwyd-code/test", b"", admin)[0], range(20)))
    metrics = request("GET", tg + "/metrics")[2].decode()
    refreshed = sum(float(line.split()[-1]) for line in metrics.splitlines()
                    if line.startswith('tollgate_registry_token_requests_total{grant="refresh_token",result="success"}'))
    suite.check("10f. %d one-time refresh-token rotations at Glewlwyd (3 sequential, 20 concurrent callers), no invalid_grant" % refreshed,
                sequential == [200] * 3 and concurrent_statuses == [200] * 20 and refreshed >= 4 and 'result="invalid_grant"' not in metrics,
                "%s %s" % (sequential, concurrent_statuses))
    proxied = request("GET", tg + "/proxy/glewlwyd-code/studies", headers=admin)[0]
    suite.check("10g. the code-flow connection through /proxy -> 200", proxied == 200, str(proxied))

    # 10h. A refresh token someone else already used (Glewlwyd rotated it away): imported, refused at once.
    stale, first_access = glewlwyd_refresh_token(glewlwyd)
    rotated = as_json(request("POST", issuer + "/token", urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": stale}).encode(),
                              registry_client_basic())[2]) or {}
    used_tokens += [stale, rotated.get("refresh_token", ""), first_access, rotated.get("access_token", "")]
    request("POST", tg + "/oauth/connections", {"connection_name": "glewlwyd-rt", "oauth_flow_type": "refresh_token",
            "client_id": "tollgate-registry", "client_secret": SECRETS["registry_client"], "token_url": issuer + "/token"}, admin)
    status, _, body = request("POST", tg + "/oauth/connections/glewlwyd-rt/refresh-token", {"refresh_token": stale}, admin)
    after = request("GET", tg + "/oauth/credentials/glewlwyd-rt", headers=admin)
    suite.check("10h. a stale refresh token -> 503 REAUTHORIZATION_REQUIRED, and callers are told (with the status) without another IdP call",
                bool(stale) and status == 503 and (as_json(body) or {}).get("error") == "REAUTHORIZATION_REQUIRED"
                and (as_json(after[2]) or {}).get("status") == "failed", "%s %s" % (status, body[:200]))

    # 10i. A restart keeps connections and tokens; nothing secret in the database files.
    procs.stop("tollgate4")
    procs.start("tollgate4", [args.tollgate, "serve", "--config", path], env={**TOLLGATE_ENV, "E2E_REGISTRY_KEY": SECRETS["registry_key"]})
    wait_until(lambda: request("GET", tg + "/ready")[0] == 200, 30)
    kept = as_json(request("GET", tg + "/oauth/credentials/glewlwyd-code", headers=admin)[2]) or {}
    suite.check("10i. after a restart the connection still hands out a token", bool(kept.get("access_token")))
    used_tokens.append(kept.get("access_token", ""))
    check_public_client_and_revocation(suite, tg, admin, glewlwyd, b, user, used_tokens)
    procs.stop("tollgate4")
    secrets = [SECRETS["registry_client"], SECRETS["reader"]] + [t for t in used_tokens[-6:] if t]
    leaks = []
    for name in os.listdir(data):
        with open(os.path.join(data, name), "rb") as handle:
            content = handle.read()
        leaks += [name for secret in secrets if secret.encode() in content]
    suite.check("10j. no token, refresh token or client secret in the registry's files (%d files, %d values)" % (len(os.listdir(data)), len(secrets)),
                not leaks and os.listdir(data), str(leaks[:3]))


def check_public_client_and_revocation(suite, tg, admin, glewlwyd, b, user, used_tokens):
    """10k: a public client (no secret, PKCE only) on seed 002's /api/oauth paths; 10l: deleting a
    connection revokes its tokens at Glewlwyd (RFC 7009, endpoint from discovery), and Glewlwyd then
    refuses the refresh token."""
    issuer = glewlwyd + "/api/oidc"
    created = request("POST", tg + "/api/oauth/connections", {
        "connection_name": "glewlwyd-public", "oauth_flow_type": "authorization_code", "client_id": "tollgate-public",
        "token_url": issuer + "/token", "authorization_url": issuer + "/auth", "issuer": issuer, "scopes": "openid dicom.read",
        "redirect_uri": PUBLIC_CALLBACK}, admin)
    url = (as_json(request("POST", tg + "/api/oauth/connections/glewlwyd-public/authorize", b"", admin)[2]) or {}).get("authorization_url", "")
    grant = request("PUT", glewlwyd + "/api/auth/grant/tollgate-public", {"scope": "openid dicom.read"}, opener=user)[0]
    location = request("GET", url + "&g_continue", opener=user)[1].get("Location", "")
    done = request("GET", location, headers={"Accept": "text/html"}) if location.startswith(PUBLIC_CALLBACK + "?") else (0, {}, b"")
    token = (as_json(request("GET", tg + "/api/oauth/credentials/glewlwyd-public", headers=admin)[2]) or {}).get("access_token", "")
    used_tokens.append(token)
    studies = request("GET", b + "/dicom-web/studies", headers={"Authorization": "Bearer " + token})[0]
    suite.check("10k. a public client (auth_method %s, no secret) connects through Glewlwyd's login (consent %s): page %s, its token reads B (%s)"
                % ((as_json(created[2]) or {}).get("auth_method"), grant, done[0], studies),
                created[0] == 201 and (as_json(created[2]) or {}).get("has_client_secret") is False and done[0] == 200
                and b"Connected" in done[2] and studies == 200, "%s %s" % (location[:120], done[2][:200]))

    credentials = as_json(request("GET", tg + "/oauth/credentials/glewlwyd-code", headers=admin)[2]) or {}
    refresh_token = (credentials.get("credentials") or {}).get("refresh_token", "")
    used_tokens.append(refresh_token)
    before = request("POST", issuer + "/introspect", urllib.parse.urlencode({"token": refresh_token, "token_type_hint": "refresh_token"}).encode(),
                     rs_basic())
    deleted = request("DELETE", tg + "/oauth/connections/glewlwyd-code", headers=admin)[0]
    after = request("POST", issuer + "/introspect", urllib.parse.urlencode({"token": refresh_token, "token_type_hint": "refresh_token"}).encode(),
                    rs_basic())
    refused = request("POST", issuer + "/token", urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token}).encode(),
                      registry_client_basic())
    metrics = request("GET", tg + "/metrics")[2].decode()
    revoked = [line for line in metrics.splitlines() if line.startswith("tollgate_registry_revocations_total")]
    suite.check("10l. deleting the code-flow connection revokes at Glewlwyd: refresh token active %s -> %s, then refused by Glewlwyd (HTTP %s)"
                % ((as_json(before[2]) or {}).get("active"), (as_json(after[2]) or {}).get("active"), refused[0]),
                bool(refresh_token) and deleted == 204 and (as_json(before[2]) or {}).get("active") is True
                and (as_json(after[2]) or {}).get("active") is False and refused[0] in (400, 403)
                and any('token_type="refresh_token",result="revoked"' in line for line in revoked), str(revoked))


def rs_basic():
    return {"Authorization": "Basic " + __import__("base64").b64encode(("tollgate-rs:" + SECRETS["rs"]).encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"}


def glewlwyd_refresh_token(glewlwyd):
    """A fresh refresh token for tollgate-registry, obtained as a user would (login, consent, code)."""
    issuer = glewlwyd + "/api/oidc"
    user = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects)
    request("POST", glewlwyd + "/api/auth/", {"username": "radiologist", "password": SECRETS["radiologist"]}, opener=user)
    request("PUT", glewlwyd + "/api/auth/grant/tollgate-registry", {"scope": "dicom.read"}, opener=user)
    _, headers, _ = request("GET", issuer + "/auth?" + urllib.parse.urlencode({"response_type": "code", "client_id": "tollgate-registry",
                            "redirect_uri": REGISTRY_CALLBACK, "scope": "dicom.read", "state": "e2e"}) + "&g_continue", opener=user)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(headers.get("Location", "")).query).get("code", [""])[0]
    answer = as_json(request("POST", issuer + "/token", urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                             "redirect_uri": REGISTRY_CALLBACK}).encode(), registry_client_basic())[2]) or {}
    return answer.get("refresh_token", ""), answer.get("access_token", "")


def registry_client_basic():
    return {"Authorization": "Basic " + __import__("base64").b64encode(("tollgate-registry:" + SECRETS["registry_client"]).encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"}


def check_replicas(suite, procs, work, args, glewlwyd, used_tokens):
    """Three Tollgate processes sharing one PostgreSQL registry: a refresh-token connection made on
    one is used by all; 60 forced refreshes spread over them spend each one-time refresh token once;
    kill -9 of one leaves the others working; an eviction at one reaches the others' caches."""
    pg_dir = os.path.join(work, "postgres")
    os.chmod(work, 0o755)  # as root, the cluster runs as the postgres user
    url = subprocess.run([os.path.join(REPO, "scripts", "lib", "postgres.sh"), "start", pg_dir, str(PORT["postgres"])],
                         capture_output=True, text=True, check=True).stdout.strip()
    names = ["tollgate5", "tollgate6", "tollgate7"]
    try:
        for name in names:
            path = os.path.join(work, name + ".yaml")
            with open(path, "w") as out:
                out.write("""server: {host: 127.0.0.1, port: %d}
log: {level: info, format: json}
inbound:
  cache: {max_ttl_seconds: 300}
  issuers:
    - name: glewlwyd
      issuer: "%s/api/oidc"
      mode: introspection
      introspection: {client_id: tollgate-rs, client_secret: "${E2E_RS_SECRET}", auth_method: client_secret_post}
admin: {auth_mode: api_key, api_keys: ["${E2E_API_KEY}"]}
registry:
  enabled: true
  store: postgres
  postgres: {url: "%s", schema: e2e}
  lease_seconds: 5
  encryption: {keys: [{id: e2e-1, key: "${E2E_REGISTRY_KEY}"}]}
""" % (PORT["tg" + name[-1]], glewlwyd, url))
            procs.start(name, [args.tollgate, "serve", "--config", path], env={**TOLLGATE_ENV, "E2E_REGISTRY_KEY": SECRETS["registry_key"]})
        bases = ["http://127.0.0.1:%d" % PORT["tg" + name[-1]] for name in names]
        ready = wait_until(lambda: all(request("GET", base + "/ready")[0] == 200 for base in bases), 30)
        admin = {"X-API-Key": SECRETS["api_key"]}
        refresh_token, access_token = glewlwyd_refresh_token(glewlwyd)
        used_tokens += [refresh_token, access_token]
        request("POST", bases[0] + "/oauth/connections", {"connection_name": "shared", "oauth_flow_type": "refresh_token",
                "client_id": "tollgate-registry", "client_secret": SECRETS["registry_client"], "token_url": glewlwyd + "/api/oidc/token"}, admin)
        imported = request("POST", bases[1] + "/oauth/connections/shared/refresh-token", {"refresh_token": refresh_token}, admin)[0]
        suite.check("11a. three Tollgates on one PostgreSQL; a connection made on one, its refresh token imported on another",
                    ready and imported == 200, "ready=%s imported=%s" % (ready, imported))

        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(lambda i: request("POST", bases[i % 3] + "/oauth/connections/shared/test", b"", admin)[0], range(60)))

        def counts(result):
            total = 0
            for base in bases:
                for line in request("GET", base + "/metrics")[2].decode().splitlines():
                    if line.startswith('tollgate_registry_token_requests_total{grant="refresh_token",result="%s"}' % result):
                        total += float(line.split()[-1])
            return total
        refreshed, refused = counts("success"), counts("invalid_grant")
        generation = (as_json(request("GET", bases[2] + "/oauth/connections/shared", headers=admin)[2]) or {}).get("generation", 0)
        suite.check("11b. 60 forced refreshes over 3 processes: all 200, %d refreshes at Glewlwyd (one-time tokens), no invalid_grant" % refreshed,
                    statuses == [200] * 60 and refused == 0 and refreshed >= 3, "%s refused=%s generation=%s" % (statuses[:10], refused, generation))

        procs.running["tollgate5"].kill()  # kill -9
        procs.running["tollgate5"].wait()
        after = [request("POST", base + "/oauth/connections/shared/test", b"", admin)[0] for base in bases[1:] for _ in range(3)]
        credentials = as_json(request("GET", bases[2] + "/oauth/credentials/shared", headers=admin)[2]) or {}
        used_tokens.append(credentials.get("access_token", ""))
        suite.check("11c. after kill -9 of one process the other two keep refreshing (no invalid_grant)",
                    after == [200] * 6 and counts("invalid_grant") == 0 and bool(credentials.get("access_token")), str(after))

        caller = glewlwyd_token(glewlwyd, "caller-read", SECRETS["reader"], "dicom.read")
        used_tokens.append(caller)
        bearer = {"Authorization": "Bearer " + caller}
        before = [request("GET", base + "/auth", headers=bearer)[0] for base in bases[1:]]
        request("POST", glewlwyd + "/api/oidc/revoke",
                urllib.parse.urlencode({"token": caller, "client_id": "tollgate-rs", "client_secret": SECRETS["rs"]}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})
        cached = request("GET", bases[2] + "/auth", headers=bearer)[0]
        evicted = as_json(request("POST", bases[1] + "/admin/cache/evict", {"token": caller}, admin)[2]) or {}
        refused_everywhere = wait_until(lambda: request("GET", bases[2] + "/auth", headers=bearer)[0] == 401, 5)
        suite.check("11d. a token revoked at Glewlwyd and evicted at one process is refused at the other at once (not after 300 s)",
                    before == [200, 200] and cached == 200 and evicted.get("replicas_notified") is True and refused_everywhere,
                    "before=%s cached=%s evicted=%s" % (before, cached, evicted))

        dump = subprocess.run(["pg_dump", "--schema", "e2e", url], capture_output=True, text=True).stdout
        values = [SECRETS["registry_client"], refresh_token] + [t for t in used_tokens[-4:] if t]
        suite.check("11e. pg_dump of the shared registry holds no token, refresh token or client secret",
                    "e2e.connections" in dump and not any(v in dump for v in values), "dump %d bytes" % len(dump))
    finally:
        for name in names:
            procs.stop(name)
        subprocess.run([os.path.join(REPO, "scripts", "lib", "postgres.sh"), "stop", pg_dir], capture_output=True)


def check_share_link(suite, b, tg, writer, used_tokens):
    """A share link made as the authorization plugin makes one (PUT ROOT/tokens/{type}) opens its
    study through the 1.10 filter (REST and DICOMweb, ?token=...) and no other study."""
    shared = make_dicom("E2E-S", "1.2.826.0.1.3680043.10.543.7", "1.2.826.0.1.3680043.10.543.7.1", "1.2.826.0.1.3680043.10.543.7.1.1")
    other = make_dicom("E2E-O", "1.2.826.0.1.3680043.10.543.8", "1.2.826.0.1.3680043.10.543.8.1", "1.2.826.0.1.3680043.10.543.8.1.1")
    ids = []
    for dataset in (shared, other):
        _, _, body = request("POST", b + "/instances", dataset, {"Authorization": "Bearer " + writer, "Content-Type": "application/dicom"})
        ids.append(as_json(body) or {})
    study_id, other_study = ids[0].get("ParentStudy"), ids[1].get("ParentStudy")
    status, _, body = request("PUT", tg + "/tokens/viewer-instant-link", json.dumps({
        "id": None, "server-id": None, "type": "viewer-instant-link", "validity-duration": 300,
        "resources": [{"dicom-uid": "1.2.826.0.1.3680043.10.543.7", "orthanc-id": study_id, "level": "study"}]}).encode(), WEBSERVICE)
    token = (as_json(body) or {}).get("token") or ""
    used_tokens.append(token)
    suite.check("10a. share token created by PUT /tokens/viewer-instant-link", status == 200 and token.count(".") == 2, str(status))
    opened = [request("GET", b + path + ("&" if "?" in path else "?") + "token=" + token)[0] for path in [
        "/dicom-web/studies/1.2.826.0.1.3680043.10.543.7/series", "/studies/%s" % study_id,
        "/series/%s" % ids[0].get("ParentSeries"), "/instances/%s/file" % ids[0].get("ID")]]
    suite.check("10b. the link opens its study: DICOMweb, study, series, instance -> 200", opened == [200] * 4, str(opened))
    refused = [request(method, b + path + "?token=" + token)[0] for method, path in [
        ("GET", "/dicom-web/studies/1.2.826.0.1.3680043.10.543.8/series"), ("GET", "/studies/%s" % other_study),
        ("GET", "/dicom-web/studies"), ("DELETE", "/studies/%s" % study_id)]]
    suite.check("10c. and nothing else: another study, all studies, a delete -> 403", refused == [403] * 4, str(refused))


def raw_request(port, method, path, token=None, body=b"", extra=None, answer_headers=None):
    """(status, every WWW-Authenticate value): urllib folds repeated headers into one.
    `answer_headers`, a dict, receives the answer's other headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    headers = {"Content-Type": "application/dicom"} if body else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    headers.update(extra or {})
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        if answer_headers is not None:
            answer_headers.update({k.lower(): v for k, v in response.getheaders()})
        return response.status, response.msg.get_all("WWW-Authenticate") or []
    except OSError:
        return 0, []
    finally:
        connection.close()


def check_nginx(suite, procs, work, reader, writer, tollgate, glewlwyd, used_tokens):
    """docs/nginx-auth-request.conf as shipped, with only ports and TLS adapted; Tollgate's
    forward_auth.rules (tollgate_config) give reads dicom.read and everything else dicom.write."""
    def render(tollgate_port):
        return forward_auth.render_nginx_example(
            "127.0.0.1:%d" % PORT["nginx"], "127.0.0.1:%d" % tollgate_port, "127.0.0.1:%d" % PORT["a"], "127.0.0.1:%d" % PORT["nginx_out"],
            [("proxy_pass https://pacs_b/dicom-web/;", "proxy_pass http://127.0.0.1:%d/dicom-web/;" % PORT["b"]),
             ("REPLACE-with-one-of-admin.api_keys", SECRETS["api_key"])])
    try:
        conf = forward_auth.nginx_main(work, "nginx", render(PORT["tg"]))
    except RuntimeError as error:
        suite.check("9. nginx example renders", False, str(error))
        return
    procs.start("nginx", ["/usr/sbin/nginx", "-c", conf])
    up = wait_until(lambda: raw_request(PORT["nginx"], "GET", "/dicom-web/studies")[0] == 401, 10)
    suite.check("9a. nginx example: no token -> 401 with Tollgate's challenge exactly once", up and
                raw_request(PORT["nginx"], "GET", "/dicom-web/studies")[1] == ['Bearer realm="tollgate"'],
                str(raw_request(PORT["nginx"], "GET", "/dicom-web/studies")))
    status, _ = raw_request(PORT["nginx"], "GET", "/dicom-web/studies", reader)
    suite.check("9b. nginx example: read token -> QIDO 200", status == 200, str(status))
    status, challenges = raw_request(PORT["nginx"], "POST", "/dicom-web/studies", reader, b"x")
    suite.check("9c. nginx example: read token -> STOW 403, insufficient_scope once", status == 403 and len(challenges) == 1
                and 'error="insufficient_scope"' in challenges[0] and "dicom.write" in challenges[0], "%s %s" % (status, challenges))
    status, _ = raw_request(PORT["nginx"], "POST", "/instances", reader, b"x")
    suite.check("9d. nginx example: read token -> upload 403", status == 403, str(status))
    status, _ = raw_request(PORT["nginx"], "POST", "/dicom-web/studies", writer, b"x")
    suite.check("9e. nginx example: write token -> STOW reaches Orthanc", status not in (401, 403, 500), str(status))
    # Outbound through nginx: no caller token; B (guarded by the filter) sees the live orthanc-b token.
    status, _ = raw_request(PORT["nginx_out"], "GET", "/peer-b/studies")
    suite.check("9f. nginx example: outbound location injects Tollgate's orthanc-b token, B answers QIDO 200", status == 200, str(status))
    forged = {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/dicom-web/studies"}
    status, _ = raw_request(PORT["nginx"], "POST", "/dicom-web/studies", reader, b"x", extra=forged)
    suite.check("9g. nginx example: a client's forged X-Forwarded-* never picks a laxer rule -> 403", status == 403, str(status))
    answer = {}
    status, _ = raw_request(PORT["nginx"], "GET", "/instances", writer, answer_headers=answer)
    suite.check("9h. nginx example: GET /instances matches no rule (default deny) -> 403 no_rule",
                status == 403 and answer.get("x-tollgate-error") == "no_rule", "%s %s" % (status, answer))
    dpop.check_dpop_through_nginx(suite, PORT["nginx"], glewlwyd, "caller-read", SECRETS["reader"], "dicom.read", used_tokens)
    dpop.check_outbound_dpop(suite, "http://127.0.0.1:%d" % PORT["tg"], "nginx-dpop", {"X-API-Key": SECRETS["api_key"]})
    procs.stop("nginx")

    # The same example with TLS on and client certificates requested: certificate-bound tokens.
    site = forward_auth.render_nginx_example(
        "127.0.0.1:%d ssl" % PORT["nginx_tls"], "127.0.0.1:%d" % PORT["tg"], "127.0.0.1:%d" % PORT["a"], "127.0.0.1:%d" % PORT["nginx_tls_out"],
        [("proxy_pass https://pacs_b/dicom-web/;", "proxy_pass http://127.0.0.1:%d/dicom-web/;" % PORT["b"]),
         certificate_bound.REQUEST_CLIENT_CERTIFICATES])
    procs.start("nginx-tls", ["/usr/sbin/nginx", "-c", forward_auth.nginx_main(work, "nginx-tls", site)])
    wait_until(lambda: certificate_bound.get_tls(PORT["nginx_tls"], "/dicom-web/studies", "x") == 401, 10)
    certificate_bound.check(suite, work, glewlwyd, PORT["nginx_tls"], used_tokens)
    procs.stop("nginx-tls")

    # The same site in front of a Tollgate whose IdP is down: the documented 401, marked unavailable.
    dead = os.path.join(work, "tollgate-idp-down.yaml")
    with open(dead, "w") as out:
        out.write("""server: {host: 127.0.0.1, port: %d}
inbound:
  issuers: [{name: down, issuer: "http://127.0.0.1:%d/api/oidc", mode: introspection,
             introspection: {client_id: x, client_secret: y}}]
forward_auth: {status_on_unavailable: 401}
""" % (PORT["tg3"], PORT["closed"]))
    procs.start("tollgate-idp-down", [tollgate, "serve", "--config", dead])
    procs.start("nginx", ["/usr/sbin/nginx", "-c", forward_auth.nginx_main(work, "nginx", render(PORT["tg3"]))])
    answer = {}
    up = wait_until(lambda: raw_request(PORT["nginx"], "GET", "/dicom-web/studies", reader, answer_headers=answer)[0] == 401, 15)
    status, challenges = raw_request(PORT["nginx"], "GET", "/dicom-web/studies", reader, answer_headers=answer)
    suite.check("9i. nginx example, IdP down: 401, a bare challenge once, X-Tollgate-Error: unavailable",
                up and status == 401 and challenges == ['Bearer realm="tollgate"'] and answer.get("x-tollgate-error") == "unavailable",
                "%s %s %s" % (status, challenges, answer))
    procs.stop("nginx")
    procs.stop("tollgate-idp-down")


def check_filter_faults(suite, filter_path):
    import http.server
    import importlib.util
    import threading

    spec = importlib.util.spec_from_file_location("tollgate_filter", filter_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Stub(http.server.BaseHTTPRequestHandler):
        answers = {"/slow": None, "/odd": b'{"granted":"yes","validity":5}', "/int": b'{"granted":1,"validity":5}',
                   "/ok": b'{"granted":true,"validity":2}'}
        calls = 0

        def do_POST(self):
            Stub.calls += 1
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.startswith("/slow"):
                time.sleep(3)
            body = Stub.answers.get(self.path.rsplit("/orthanc/authorize", 1)[0], b"{}") or b"{}"
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the slow case: the filter gave up long ago

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    headers = {"authorization": "Bearer some.token.value"}
    try:
        started = time.monotonic()
        slow = module.TollgateFilter(base + "/slow", timeout=0.5).allows("/studies", 1, "127.0.0.1", headers)
        suite.check("8b. filter: slow Tollgate -> denied within its timeout (%.2f s)" % (time.monotonic() - started),
                    slow is False and time.monotonic() - started < 2)
        odd = [module.TollgateFilter(base + path).allows("/studies", 1, "127.0.0.1", headers) for path in ["/odd", "/int"]]
        suite.check("8c. filter: non-boolean answers -> denied", odd == [False, False])
        closed = module.TollgateFilter("http://127.0.0.1:9").allows("/studies", 1, "127.0.0.1", headers)
        suite.check("8d. filter: unreachable Tollgate -> denied", closed is False)
        ok = module.TollgateFilter(base + "/ok")
        before = Stub.calls
        answers = [ok.allows("/studies", 1, "127.0.0.1", headers) for _ in range(5)]
        cached_calls = Stub.calls - before
        time.sleep(2.2)
        ok.allows("/studies", 1, "127.0.0.1", headers)
        suite.check("8e. filter: grants cached for their validity only (%d call for 5, then 1 after expiry)" % cached_calls,
                    answers == [True] * 5 and cached_calls == 1 and Stub.calls - before == 2)
        before = Stub.calls
        odd_method = ok.allows("/studies", 9, "127.0.0.1", headers)
        suite.check("8f. filter: unknown method -> denied without asking", odd_method is False and Stub.calls == before)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()

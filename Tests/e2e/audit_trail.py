"""The audit trail to a real syslog receiver (issue 31): Debian's rsyslog with rsyslog-gnutls,
listening on loopback for RFC 5425 (TLS, client certificate required), in front of a Tollgate on
the embedded dev issuer.

- A scripted sequence of allowed and denied requests arrives complete and in order, each record
  intact through rsyslog's RFC 5424 parser.
- rsyslog is killed (SIGKILL) and restarted midway: the records made while it is down wait in
  Tollgate's buffer (audit.buffer_events) and arrive after the restart, in order; those beyond
  the buffer are counted in tollgate_audit_events_total{outcome="dropped"}, exactly.
- The same receiver takes `audit.format: fhir` from a second instance; every record it got is
  checked with fhir.resources (scripts/validate-fhir-audit.py).
- No token or secret in anything either instance wrote or rsyslog received."""

import json
import os
import re
import subprocess
import sys
import time

from loopback import request, wait_ready, wait_until

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEV_SECRET = "audit-dev-secret-5c1e"
API_KEY = "audit-admin-api-key-0123456789"
BUFFER = 10


def make_certificates(directory):
    """A CA, rsyslog's server certificate (127.0.0.1 and localhost) and Tollgate's client certificate."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=audit-e2e-ca", "-keyout", "ca.key", "-out", "ca.pem")
    for name, extension in [("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
                            ("client", "extendedKeyUsage=clientAuth")]:
        with open(os.path.join(directory, name + ".ext"), "w") as out:
            out.write(extension + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", name + ".key", "-out", name + ".csr")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", name + ".ext", "-out", name + ".pem")


def rsyslog_config(directory, port):
    """imtcp over gtls requiring a client certificate from the CA; each message written as
    APP-NAME MSGID MSG, one per line (MSG is the record without its syslog header)."""
    return """global(workDirectory="{d}" maxMessageSize="64k" net.enableDNS="off"
       defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="{d}/ca.pem"
       defaultNetstreamDriverCertFile="{d}/server.pem" defaultNetstreamDriverKeyFile="{d}/server.key")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
input(type="imtcp" address="127.0.0.1" port="{p}")
template(name="audit" type="string" string="%app-name% %msgid% %pri% %msg%\\n")
action(type="omfile" file="{d}/received.log" template="audit")
""".format(d=directory, p=port)


def tollgate_config(port, directory, syslog_port, app_name, format_name):
    return """server: {{host: 127.0.0.1, port: {port}}}
log: {{level: info, format: json}}
inbound:
  issuers: [{{name: dev, embedded: true, introspection: {{client_id: audit-dev, client_secret: "${{AUDIT_DEV_SECRET}}"}}}}]
dev_issuer:
  enabled: true
  clients: [{{client_id: audit-dev, client_secret: "${{AUDIT_DEV_SECRET}}", scopes: [read]}}]
admin: {{auth_mode: api_key, api_keys: ["${{AUDIT_API_KEY}}"]}}
audit:
  enabled: true
  format: {format}
  buffer_events: {buffer}
  unready_after_seconds: 1
  sinks:
    file: {{path: {d}/{app}.audit, mode: "0600"}}
    syslog:
      transport: tls
      address: 127.0.0.1:{sp}
      facility: authpriv
      app_name: {app}
      ca_file: {d}/ca.pem
      cert_file: {d}/client.pem
      key_file: {d}/client.key
""".format(port=port, d=directory, sp=syslog_port, app=app_name, format=format_name, buffer=BUFFER)


def received(directory, app_name):
    """(msgid, pri, record) for each message rsyslog wrote from `app_name`."""
    path = os.path.join(directory, "received.log")
    if not os.path.exists(path):
        return []
    out = []
    with open(path, errors="replace") as log:
        for line in log:
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) == 4 and parts[0] == app_name:
                try:
                    out.append((parts[1], parts[2], json.loads(parts[3].strip())))
                except ValueError:
                    out.append((parts[1], parts[2], {"unparsed": parts[3]}))
    return out


def dropped(base):
    text = request("GET", base + "/metrics")[2].decode()
    match = re.search(r'^tollgate_audit_events_total\{sink="syslog",outcome="dropped"\} (\d+)', text, re.M)
    return int(match.group(1)) if match else 0


def token(base):
    status, _, body = request("POST", base + "/dev-issuer/token", b"grant_type=client_credentials",
                              {"Content-Type": "application/x-www-form-urlencoded",
                               "Authorization": "Basic " + __import__("base64").b64encode(("audit-dev:" + DEV_SECRET).encode()).decode()})
    return json.loads(body)["access_token"] if status == 200 else ""


def check_audit(suite, procs, work, tollgate_bin, ports, used_tokens, fhir_python_path):
    directory = os.path.join(work, "audit")
    os.makedirs(directory, exist_ok=True)
    make_certificates(directory)
    conf = os.path.join(directory, "rsyslog.conf")
    with open(conf, "w") as out:
        out.write(rsyslog_config(directory, ports["syslog"]))
    rsyslog = ["rsyslogd", "-n", "-f", conf, "-i", os.path.join(directory, "rsyslog.pid")]
    procs.start("rsyslog", rsyslog)
    env = {"AUDIT_DEV_SECRET": DEV_SECRET, "AUDIT_API_KEY": API_KEY}
    for name, port, format_name in [("tollgate-audit", ports["tg"], "json"), ("tollgate-audit-fhir", ports["tg_fhir"], "fhir")]:
        path = os.path.join(work, name + ".yaml")
        with open(path, "w") as out:
            out.write(tollgate_config(port, directory, ports["syslog"], name, format_name))
        check = subprocess.run([tollgate_bin, "check-config", "--config", path], capture_output=True, text=True, env={**os.environ, **env})
        suite.check("31a. %s: check-config accepts the audit section" % name, check.returncode == 0, check.stdout + check.stderr)
        procs.start(name, [tollgate_bin, "serve", "--config", path], env=env)
    base = "http://127.0.0.1:%d" % ports["tg"]
    fhir_base = "http://127.0.0.1:%d" % ports["tg_fhir"]
    wait_ready(ports["tg"], 20)
    wait_ready(ports["tg_fhir"], 20)
    good = token(base)
    used_tokens.append(good)

    def send(start, count):
        ids = []
        for i in range(start, start + count):
            rid = "audit-seq-%03d" % i
            headers = {"X-Request-Id": rid, "Authorization": "Bearer " + (good if i % 2 == 0 else "forged-" + good[:20])}
            request("GET", base + "/auth", headers=headers)
            ids.append(rid)
        return ids

    # 1. A scripted sequence arrives complete and in order. The sink connects at start-up; one
    # record that arrived first proves the connection is up before the burst (buffer_events is 10,
    # so a burst racing the TLS handshake would rightly drop and count records).
    warm = request("GET", base + "/auth", headers={"X-Request-Id": "audit-warm-up"})[0]
    warmed = wait_until(lambda: [r.get("request_id") for _, _, r in received(directory, "tollgate-audit")] == ["audit-warm-up"], 60)
    suite.check("31b0. the syslog sink connected at start-up and delivered a first record", warm == 401 and warmed,
                "status %s received %s" % (warm, [r.get("request_id") for _, _, r in received(directory, "tollgate-audit")]))
    burst_drops = dropped(base)
    first = send(0, 20)
    admin = request("POST", base + "/admin/cache/evict", json.dumps({"token": good}).encode(),
                    {"X-API-Key": API_KEY, "Content-Type": "application/json", "X-Request-Id": "audit-admin-1"})[0]
    wrong = request("POST", base + "/admin/cache/evict", b"{}", {"X-API-Key": "not-the-key", "X-Request-Id": "audit-security-1"})[0]
    burst_drops = dropped(base) - burst_drops
    expected = ["audit-warm-up"] + first + ["audit-admin-1", "audit-security-1"]
    # Generous: on a loaded CI machine rsyslog once took longer than 15 s to write what it had received.
    wait_until(lambda: len(received(directory, "tollgate-audit")) >= len(expected), 60)
    got = received(directory, "tollgate-audit")
    ids = [record.get("request_id") for _, _, record in got]
    outcomes = [record.get("outcome") for _, _, record in got[1:21]]
    suite.check("31b. rsyslog (TLS, client certificate) received the scripted sequence complete and in order (%d records)" % len(got),
                ids == expected and outcomes == ["allowed", "denied"] * 10 and admin == 200 and wrong == 401 and burst_drops == 0,
                "ids %s (want %s) admin %s wrong %s dropped %d" % (ids[:24], expected[:3], admin, wrong, burst_drops))
    kinds = {(msgid, record.get("action")) for msgid, _, record in got}
    suite.check("31c. RFC 5424 parsed by rsyslog: MSGID is the category, PRI authpriv.info/notice/warning",
                {("access", "auth"), ("admin", "cache.evict"), ("security", "admin.authentication")} <= kinds
                and {pri for _, pri, _ in got} <= {"86", "85", "84"} and "86" in {pri for _, pri, _ in got}, str(sorted(kinds)))

    # 2. rsyslog killed; records made meanwhile wait in the buffer, the rest are counted.
    before = dropped(base)
    procs.running["rsyslog"].kill()
    procs.running["rsyslog"].wait()
    procs.running.pop("rsyslog")
    time.sleep(1)  # Tollgate notices the closed connection (no write is in flight: the sequence above was delivered)
    unready = wait_until(lambda: "audit sink syslog" in request("GET", base + "/ready")[2].decode(), 5) if send(100, 1) else False
    during = send(101, BUFFER + 4)
    lost = dropped(base) - before
    answered = request("GET", base + "/ready")[0]
    procs.start("rsyslog", rsyslog)
    kept = ["audit-seq-100"] + during[:BUFFER - 1]
    arrived = wait_until(lambda: [r.get("request_id") for _, _, r in received(directory, "tollgate-audit")][len(expected):] == kept, 60)
    after = send(200, 3)
    wait_until(lambda: len(received(directory, "tollgate-audit")) >= len(expected) + len(kept) + 3, 60)
    tail = [r.get("request_id") for _, _, r in received(directory, "tollgate-audit")][len(expected):]
    suite.check("31d. rsyslog killed and restarted: the %d records within the buffer arrive in order, the %d beyond it counted as dropped (%d), /ready said so (%s)"
                % (BUFFER, len(during) + 1 - BUFFER, lost, answered),
                arrived and tail == kept + after and lost == len(during) + 1 - BUFFER and unready and answered == 503,
                "tail %s lost %d unready %s" % (tail, lost, unready))
    ready_again = wait_until(lambda: request("GET", base + "/ready")[0] == 200, 10)
    suite.check("31e. /ready recovers once the receiver is back", ready_again)

    # 3. FHIR from the second instance, validated with a real FHIR library.
    fhir_token = token(fhir_base)
    used_tokens.append(fhir_token)
    for headers in [{"Authorization": "Bearer " + fhir_token}, {"Authorization": "Bearer garbage"}, {}]:
        request("GET", fhir_base + "/auth", headers=headers)
    request("POST", fhir_base + "/admin/cache/evict", json.dumps({"token": fhir_token}).encode(), {"X-API-Key": API_KEY, "Content-Type": "application/json"})
    request("POST", fhir_base + "/admin/cache/evict", b"{}", {"X-API-Key": "nope"})
    wait_until(lambda: len(received(directory, "tollgate-audit-fhir")) >= 5, 60)
    resources = [record for _, _, record in received(directory, "tollgate-audit-fhir")]
    lines = os.path.join(directory, "fhir-received.jsonl")
    with open(lines, "w") as out:
        out.writelines(json.dumps(resource) + "\n" for resource in resources)
    validation = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "validate-fhir-audit.py"), lines],
                                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": fhir_python_path})
    codes = sorted({resource.get("type", {}).get("code") for resource in resources})
    suite.check("31f. FHIR R4 AuditEvents through syslog pass fhir.resources (%d records; types %s)" % (len(resources), codes),
                validation.returncode == 0 and len(resources) >= 5 and codes == ["110114", "rest"], validation.stdout + validation.stderr)

    # 4. Nothing secret in what either instance wrote or rsyslog received.
    texts = []
    for name in ["received.log", "tollgate-audit.audit", "tollgate-audit-fhir.audit"]:
        with open(os.path.join(directory, name), errors="replace") as source:
            texts.append(source.read())
    secrets = [good, fhir_token, DEV_SECRET, API_KEY, good[:20]]
    leaks = [s[:8] for s in secrets if any(s in text for text in texts)]
    suite.check("31g. no token, key or secret in the audit output (%d bytes checked)" % sum(map(len, texts)), not leaks and all(texts), str(leaks))
    procs.stop("tollgate-audit")
    procs.stop("tollgate-audit-fhir")
    procs.stop("rsyslog")

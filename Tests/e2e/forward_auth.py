"""Forward-auth through real proxies in front of a real Orthanc 1.10 with no filter, so the proxy
alone enforces Tollgate's answer (issue 27):

- the shipped docs/nginx-auth-request.conf (forward_auth.proxy: nginx);
- nginx configured the way ingress-nginx's template configures `auth-url` (X-Original-URL, every
  client header passed through; proxy: ingress-nginx);
- Caddy's forward_auth with the shipped docs/caddy-forward-auth.Caddyfile (proxy: caddy);
- the shipped nginx example run from a non-loopback address in a network namespace this suite
  creates (veth, a private /30): refused while untrusted, granted once trusted.

Tests/corpus/request-paths.tsv is replayed through each proxy: not one 2xx where a rule denies."""

import os
import socket
import subprocess
import time

from loopback import as_json, request, wait_until
from tollgate_configs import glewlwyd_inbound

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CORPUS = os.path.join(REPO, "Tests", "corpus", "request-paths.tsv")
# The corpus names this Orthanc id; the replay puts the real patient's id in its place.
CORPUS_PATIENT = b"0946fcb6-cf12ea15-8ddc1c42-9bbb6c01-3cd6c52b"
CREATE = b'{"Tags":{"PatientName":"CORPUS^BYPASS","PatientID":"CORPUS-BYPASS"}}'
NETNS = dict(name="tgfa%d" % os.getpid(), host="tgfa%dh" % (os.getpid() % 100000), peer="tgfa%dp" % (os.getpid() % 100000),
             host_ip="10.99.27.1", peer_ip="10.99.27.2")


def rules_config(port, glewlwyd, proxy, host="127.0.0.1", trusted=None):
    """A Tollgate whose only job is forward-auth for Orthanc C: the README's rules, default deny."""
    trusted_line = "  trusted_proxies: [%s]\n" % ", ".join('"%s"' % t for t in trusted) if trusted else ""
    return glewlwyd_inbound(port, glewlwyd, host=host) + """forward_auth:
  proxy: %s
%s  rules:
    - {name: public, path: "^/public/", allow_anonymous: true}
    - {name: dicomweb-read, methods: [GET, HEAD], path: "^/dicom-web/", scopes: [dicom.read]}
    - {name: dicomweb-write, path: "^/dicom-web/", scopes: [dicom.write]}
""" % (proxy, trusted_line)


# ---------------------------------------------------------------- corpus and raw HTTP

def unescape(text):
    out = bytearray()
    data = text.encode("utf-8")
    i = 0
    while i < len(data):
        if data[i:i + 2] == b"\\\\":
            out += b"\\"
            i += 2
        elif data[i:i + 2] == b"\\x":
            out.append(int(data[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def load_corpus():
    entries = []
    with open(CORPUS, encoding="utf-8") as corpus:
        for line in corpus:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            raw, expected, note = line.split("\t")
            entries.append((unescape(raw), None if expected == "REFUSE" else expected, note))
    return entries


def allowed(canonical, method, token_kind):
    """What the rules in rules_config() let through."""
    if canonical is None:
        return False
    if canonical.startswith("/public/"):
        return True
    if canonical.startswith("/dicom-web/"):
        return method in ("GET", "HEAD") and token_kind in ("reader", "writer") or token_kind == "writer"
    return False


def send_raw(host, port, method, target, headers=None, body=b""):
    """(status, {lower-case name: value}) for a request line written byte for byte; 0 when the
    connection broke."""
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: %s:%d" % (host.encode(), port), b"Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(("%s: %s" % (name, value)).encode())
    lines.append(b"Content-Length: %d" % len(body))
    try:
        with socket.create_connection((host, port), timeout=15) as connection:
            connection.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            answer = b""
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
    except OSError:
        return 0, {}
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    try:
        status = int(head[0].split(" ")[1])
    except (IndexError, ValueError):
        return 0, {}
    fields = {}
    for line in head[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
    return status, fields


class Tokens:
    """Glewlwyd's tokens last 20 s in this suite: minted afresh when half that has passed."""

    def __init__(self, mint):
        self.mint = mint
        self.minted = {}

    def __call__(self, kind):
        token, when = self.minted.get(kind, (None, 0))
        if time.monotonic() - when > 10:
            token = self.mint(kind)
            self.minted[kind] = (token, time.monotonic())
        return token


def replay(suite, label, host, port, tokens, patient, used_tokens):
    """Every corpus entry × GET/POST/DELETE × no token/read token through a proxy: a 2xx only
    where the rules allow the canonical path."""
    violations = []
    statuses = {}
    for raw, canonical, note in load_corpus():
        raw = raw.replace(CORPUS_PATIENT, patient.encode())
        canonical = canonical.replace(CORPUS_PATIENT.decode(), patient) if canonical else None
        for method in ("GET", "POST", "DELETE"):
            for kind in ("none", "reader"):
                headers = {"Authorization": "Bearer " + tokens(kind)} if kind != "none" else {}
                if kind != "none":
                    used_tokens.append(tokens(kind))
                status, _ = send_raw(host, port, method, raw, headers, CREATE if method == "POST" else b"")
                statuses[status] = statuses.get(status, 0) + 1
                if 200 <= status < 300 and not allowed(canonical, method, kind):
                    violations.append("%s %r (%s) with %s -> %d" % (method, raw, note, kind, status))
    summary = ", ".join("%d×%d" % (count, status) for status, count in sorted(statuses.items()))
    suite.check("%s: corpus replayed (%d requests), no 2xx where a rule denies [%s]" % (label, sum(statuses.values()), summary),
                not violations, "; ".join(violations[:5]))


# ---------------------------------------------------------------- Orthanc C

def start_orthanc_c(procs, work, port, dicom_port):
    directory = os.path.join(work, "c")
    os.makedirs(os.path.join(directory, "storage"), exist_ok=True)
    config = {"Name": "c", "StorageDirectory": directory + "/storage", "IndexDirectory": directory + "/storage",
              "HttpPort": port, "DicomPort": dicom_port, "DicomAet": "ORTHANCC",
              # Reached from the network namespace too; the proxies in front are the only gate (no filter).
              "RemoteAccessAllowed": True, "AuthenticationEnabled": False,
              "Plugins": ["/usr/lib/orthanc/libOrthancDicomWeb.so.1.7"], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}}
    path = os.path.join(directory, "config.json")
    with open(path, "w") as out:
        out.write(__import__("json").dumps(config))
    procs.start("orthanc-c", ["/usr/sbin/Orthanc", path])
    base = "http://127.0.0.1:%d" % port
    if not wait_until(lambda: request("GET", base + "/system")[0] == 200, 20):
        raise RuntimeError("Orthanc C did not start")
    return base


def patients(base):
    return as_json(request("GET", base + "/patients")[2]) or []


def create_patient(base, name):
    status, _, body = request("POST", base + "/tools/create-dicom", {"Tags": {"PatientName": name, "PatientID": name}})
    if status != 200:
        raise RuntimeError("create-dicom on Orthanc C: %s" % status)
    return (as_json(body) or {}).get("ParentPatient") or as_json(request("GET", base + "/instances/%s/patient" % as_json(body)["ID"])[2])["ID"]


# ---------------------------------------------------------------- the proxies

def render_nginx_example(listen, tollgate, orthanc, outbound_listen, more=()):
    """docs/nginx-auth-request.conf as shipped, with only addresses (and `more` replacements) changed."""
    site = open(os.path.join(REPO, "docs", "nginx-auth-request.conf")).read()
    for old, new in [("listen 443 ssl;", "listen %s;" % listen), ("server 127.0.0.1:8080;", "server %s;" % tollgate),
                     ("server 127.0.0.1:8042;", "server %s;" % orthanc), ("listen 127.0.0.1:8081;", "listen %s;" % outbound_listen)] + list(more):
        if old not in site:
            raise RuntimeError("docs/nginx-auth-request.conf no longer has %r" % old)
        site = site.replace(old, new)
    return site


def nginx_main(work, name, site):
    directory = os.path.join(work, name)
    for sub in ["body", "proxy"]:
        os.makedirs(os.path.join(directory, sub), mode=0o777, exist_ok=True)
        os.chmod(os.path.join(directory, sub), 0o777)
    with open(os.path.join(directory, "site.conf"), "w") as out:
        out.write(site)
    conf = os.path.join(directory, "nginx.conf")
    with open(conf, "w") as out:
        out.write("daemon off; pid %s/nginx.pid; error_log %s/error.log warn;\nevents { worker_connections 256; }\n"
                  "http { access_log off; client_body_temp_path %s/body; proxy_temp_path %s/proxy; include %s/site.conf; }\n"
                  % (directory, directory, directory, directory, directory))
    return conf


def ingress_nginx_site(listen, tollgate, orthanc):
    """The auth subrequest as ingress-nginx's nginx.tmpl writes it for the auth-url annotation
    (without auth-method: no X-Original-URI), client headers passed through."""
    return """upstream tollgate_ingress { server %s; keepalive 8; }
upstream orthanc_ingress { server %s; keepalive 8; }
server {
    listen %s;
    location = /_external-auth-Lw-Prefix {
        internal;
        proxy_pass_request_body     off;
        proxy_set_header            Content-Length          "";
        proxy_set_header            X-Forwarded-Proto       "";
        proxy_set_header            X-Request-ID            $request_id;
        proxy_set_header            Host                    tollgate.tollgate.svc.cluster.local;
        proxy_set_header            X-Original-URL          $scheme://$http_host$request_uri;
        proxy_set_header            X-Original-Method       $request_method;
        proxy_set_header            X-Sent-From             "nginx-ingress-controller";
        proxy_set_header            X-Real-IP               $remote_addr;
        proxy_set_header            X-Forwarded-For         $remote_addr;
        proxy_set_header            X-Auth-Request-Redirect $request_uri;
        proxy_buffering             off;
        proxy_ssl_server_name       on;
        proxy_pass_request_headers  on;
        client_max_body_size        1m;
        proxy_http_version          1.1;
        proxy_set_header            Connection "";
        proxy_pass http://tollgate_ingress/auth;
    }
    location / {
        auth_request /_external-auth-Lw-Prefix;
        auth_request_set $auth_cookie $upstream_http_set_cookie;
        auth_request_set $authHeader0 $upstream_http_x_auth_subject;
        proxy_set_header 'X-Auth-Subject' $authHeader0;
        proxy_pass http://orthanc_ingress;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }
}
""" % (tollgate, orthanc, listen)


def start_tollgate(procs, work, name, tollgate_bin, config, env, port, host="127.0.0.1"):
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as out:
        out.write(config)
    procs.start(name, [tollgate_bin, "serve", "--config", path], env=env)
    if not wait_until(lambda: request("GET", "http://%s:%d/ready" % (host, port))[0] == 200, 30):
        raise RuntimeError("%s did not become ready" % name)
    return path


def netns(*argv, check=True):
    return subprocess.run(["ip"] + list(argv), capture_output=True, text=True, check=check)


def netns_up():
    n = NETNS
    netns_down()
    netns("netns", "add", n["name"])
    netns("link", "add", n["host"], "type", "veth", "peer", "name", n["peer"])
    netns("link", "set", n["peer"], "netns", n["name"])
    netns("addr", "add", n["host_ip"] + "/30", "dev", n["host"])
    netns("link", "set", n["host"], "up")
    netns("-n", n["name"], "addr", "add", n["peer_ip"] + "/30", "dev", n["peer"])
    netns("-n", n["name"], "link", "set", n["peer"], "up")
    netns("-n", n["name"], "link", "set", "lo", "up")


def netns_down():
    netns("netns", "del", NETNS["name"], check=False)
    netns("link", "del", NETNS["host"], check=False)


# ---------------------------------------------------------------- the checks

def check_proxies(suite, procs, work, tollgate_bin, glewlwyd, mint, env, ports, used_tokens):
    tokens = Tokens(mint)
    c = start_orthanc_c(procs, work, ports["c"], ports["c_dicom"])
    patient = create_patient(c, "E2E-CORPUS")
    nginx_tg = start_tollgate(procs, work, "tollgate-fa-nginx", tollgate_bin,
                              rules_config(ports["tg_nginx"], glewlwyd, "nginx", host="0.0.0.0"), env, ports["tg_nginx"])

    # check-config warns about exactly this Tollgate: rules, a reachable listener, only loopback trusted.
    checked = subprocess.run([tollgate_bin, "check-config", "--config", nginx_tg], capture_output=True, text=True, env={**os.environ, **env})
    suite.check("12a. check-config warns: rules, server.host 0.0.0.0 and trusted_proxies loopback only",
                checked.returncode == 0 and "warning: forward_auth.trusted_proxies" in checked.stderr, checked.stderr[-300:])

    # nginx, the shipped example.
    procs.start("nginx-fa", ["/usr/sbin/nginx", "-c", nginx_main(work, "nginx-fa", render_nginx_example(
        "127.0.0.1:%d" % ports["nginx_fa"], "127.0.0.1:%d" % ports["tg_nginx"], "127.0.0.1:%d" % ports["c"],
        "127.0.0.1:%d" % ports["nginx_fa_out"]))])
    wait_until(lambda: send_raw("127.0.0.1", ports["nginx_fa"], "GET", b"/dicom-web/studies")[0] == 401, 10)
    # The reviewed bypass, first proven against Orthanc itself: it decodes %2F and walks out of /public/.
    victim = create_patient(c, "E2E-VICTIM")
    direct = send_raw("127.0.0.1", ports["c"], "DELETE", b"/public/..%2Fpatients%2F" + victim.encode())[0]
    suite.check("12b. Orthanc 1.10 itself: DELETE /public/..%2Fpatients%2F<id> deletes the patient (the walk is real)",
                direct == 200 and victim not in patients(c), str(direct))
    victim = create_patient(c, "E2E-VICTIM2")
    before = len(patients(c))
    gated = [send_raw("127.0.0.1", ports["nginx_fa"], "POST", b"/public/..%2Ftools%2Fcreate-dicom", body=CREATE)[0],
             send_raw("127.0.0.1", ports["nginx_fa"], "DELETE", b"/public/..%2Fpatients%2F" + victim.encode())[0]]
    suite.check("12c. nginx example: no token, POST /public/..%2Ftools%2Fcreate-dicom and DELETE /public/..%2Fpatients%2F<id> refused, nothing changed",
                all(s not in range(200, 300) for s in gated) and len(patients(c)) == before and victim in patients(c), str(gated))
    reader = tokens("reader")
    used_tokens.append(reader)
    jobs = send_raw("127.0.0.1", ports["nginx_fa"], "GET", b"/dicom-web/..%2Fjobs", {"Authorization": "Bearer " + reader})[0]
    suite.check("12d. nginx example: a read token never reaches /jobs through /dicom-web/..%2Fjobs", jobs not in range(200, 300), str(jobs))
    qido = send_raw("127.0.0.1", ports["nginx_fa"], "GET", b"/dicom-web/studies", {"Authorization": "Bearer " + reader})[0]
    forged = send_raw("127.0.0.1", ports["nginx_fa"], "POST", b"/dicom-web/studies",
                      {"Authorization": "Bearer " + reader, "X-Forwarded-Uri": "/public/x", "X-Forwarded-Method": "GET"}, b"x")[0]
    suite.check("12e. nginx example (proxy: nginx): read token QIDO 200; a client's X-Forwarded-* is never read (STOW 403)",
                qido == 200 and forged == 403, "%s %s" % (qido, forged))
    replay(suite, "12f. nginx example", "127.0.0.1", ports["nginx_fa"], tokens, patient, used_tokens)
    suite.check("12g. after the nginx replay: the corpus patient is still there, no patient was created through a walk",
                patient in patients(c) and not any(p for p in patients(c)
                                                   if (as_json(request("GET", c + "/patients/" + p)[2]) or {}).get("MainDicomTags", {}).get("PatientID") == "CORPUS-BYPASS"))

    # nginx as ingress-nginx's template writes the auth-url subrequest.
    start_tollgate(procs, work, "tollgate-fa-ingress", tollgate_bin, rules_config(ports["tg_ingress"], glewlwyd, "ingress-nginx"), env, ports["tg_ingress"])
    procs.start("nginx-ingress", ["/usr/sbin/nginx", "-c", nginx_main(work, "nginx-ingress", ingress_nginx_site(
        "127.0.0.1:%d" % ports["nginx_ingress"], "127.0.0.1:%d" % ports["tg_ingress"], "127.0.0.1:%d" % ports["c"]))])
    wait_until(lambda: send_raw("127.0.0.1", ports["nginx_ingress"], "GET", b"/dicom-web/studies")[0] == 401, 10)
    reader = tokens("reader")
    forged = send_raw("127.0.0.1", ports["nginx_ingress"], "POST", b"/dicom-web/studies",
                      {"Authorization": "Bearer " + reader, "X-Original-URI": "/public/x"}, b"x")[0]
    public = send_raw("127.0.0.1", ports["nginx_ingress"], "GET", b"/public/x")[0]
    qido = send_raw("127.0.0.1", ports["nginx_ingress"], "GET", b"/dicom-web/studies?limit=1", {"Authorization": "Bearer " + reader})[0]
    suite.check("12h. ingress-nginx template: X-Original-URL read (public passes to Orthanc's 404, QIDO 200); the client's own X-Original-URI is not (STOW 403)",
                forged == 403 and public == 404 and qido == 200, "%s %s %s" % (forged, public, qido))
    replay(suite, "12i. ingress-nginx template", "127.0.0.1", ports["nginx_ingress"], tokens, patient, used_tokens)

    # Caddy's forward_auth, the shipped Caddyfile.
    start_tollgate(procs, work, "tollgate-fa-caddy", tollgate_bin, rules_config(ports["tg_caddy"], glewlwyd, "caddy"), env, ports["tg_caddy"])
    caddy_home = os.path.join(work, "caddy")
    os.makedirs(caddy_home, exist_ok=True)
    procs.start("caddy", ["caddy", "run", "--adapter", "caddyfile", "--config", os.path.join(REPO, "docs", "caddy-forward-auth.Caddyfile")],
                env={"HOME": caddy_home, "XDG_DATA_HOME": caddy_home, "XDG_CONFIG_HOME": caddy_home,
                     "TOLLGATE_SITE": "http://:%d" % ports["caddy"], "TOLLGATE_UPSTREAM": "127.0.0.1:%d" % ports["tg_caddy"],
                     "ORTHANC_UPSTREAM": "127.0.0.1:%d" % ports["c"], "CADDY_ADMIN": "127.0.0.1:%d" % ports["caddy_admin"]})
    wait_until(lambda: send_raw("127.0.0.1", ports["caddy"], "GET", b"/dicom-web/studies")[0] == 401, 15)
    reader = tokens("reader")
    anonymous = send_raw("127.0.0.1", ports["caddy"], "GET", b"/dicom-web/studies")
    qido = send_raw("127.0.0.1", ports["caddy"], "GET", b"/dicom-web/studies", {"Authorization": "Bearer " + reader})[0]
    stow = send_raw("127.0.0.1", ports["caddy"], "POST", b"/dicom-web/studies",
                    {"Authorization": "Bearer " + reader, "X-Original-URI": "/public/x"}, b"x")
    walk = send_raw("127.0.0.1", ports["caddy"], "POST", b"/public/..%2Ftools%2Fcreate-dicom", body=CREATE)
    suite.check("12j. Caddy forward_auth: no token 401 with the challenge, read token QIDO 200, STOW 403 (a client's X-Original-URI not read), the walk 400 ambiguous_path",
                anonymous[0] == 401 and "bearer" in anonymous[1].get("www-authenticate", "").lower() and qido == 200 and stow[0] == 403
                and walk[0] == 400 and walk[1].get("x-tollgate-error") == "ambiguous_path",
                "%s %s %s %s" % (anonymous, qido, stow, walk))
    replay(suite, "12k. Caddy forward_auth", "127.0.0.1", ports["caddy"], tokens, patient, used_tokens)

    # The nginx example from a non-loopback address (a network namespace): untrusted, then trusted.
    try:
        netns_up()
        start_tollgate(procs, work, "tollgate-fa-trusted", tollgate_bin,
                       rules_config(ports["tg_trusted"], glewlwyd, "nginx", host="0.0.0.0", trusted=["127.0.0.0/8", NETNS["peer_ip"] + "/32"]),
                       env, ports["tg_trusted"])
        for name, tg_port, listen_port in [("nginx-ns-untrusted", ports["tg_nginx"], ports["ns_untrusted"]),
                                           ("nginx-ns-trusted", ports["tg_trusted"], ports["ns_trusted"])]:
            site = render_nginx_example("%s:%d" % (NETNS["peer_ip"], listen_port), "%s:%d" % (NETNS["host_ip"], tg_port),
                                        "%s:%d" % (NETNS["host_ip"], ports["c"]), "127.0.0.1:%d" % (listen_port + 100))
            procs.start(name, ["ip", "netns", "exec", NETNS["name"], "/usr/sbin/nginx", "-c", nginx_main(work, name, site)])
        peer = NETNS["peer_ip"]
        wait_until(lambda: send_raw(peer, ports["ns_trusted"], "GET", b"/dicom-web/studies")[0] == 401, 10)
        reader = tokens("reader")
        untrusted = send_raw(peer, ports["ns_untrusted"], "GET", b"/dicom-web/studies", {"Authorization": "Bearer " + reader})
        with open(os.path.join(work, "tollgate-fa-nginx.log"), errors="replace") as log:
            warned = [line for line in log if "untrusted_proxy" in line and peer in line and "forward_auth.trusted_proxies" in line]
        suite.check("12l. nginx at %s (not trusted): 403 X-Tollgate-Error: untrusted_proxy, one warning naming the peer and the key" % peer,
                    untrusted[0] == 403 and untrusted[1].get("x-tollgate-error") == "untrusted_proxy" and len(warned) == 1,
                    "%s %d warnings" % (untrusted, len(warned)))
        qido = send_raw(peer, ports["ns_trusted"], "GET", b"/dicom-web/studies", {"Authorization": "Bearer " + reader})[0]
        stow = send_raw(peer, ports["ns_trusted"], "POST", b"/dicom-web/studies", {"Authorization": "Bearer " + reader}, b"x")[0]
        walk = send_raw(peer, ports["ns_trusted"], "POST", b"/public/..%2Ftools%2Fcreate-dicom", body=CREATE)[0]
        suite.check("12m. nginx at %s once trusted: read token QIDO 200, STOW 403, the walk refused" % peer,
                    qido == 200 and stow == 403 and walk not in range(200, 300), "%s %s %s" % (qido, stow, walk))
    except (subprocess.CalledProcessError, OSError) as error:
        suite.check("12l. network namespace for a non-loopback proxy", False, str(getattr(error, "stderr", error)))
    finally:
        for name in ["nginx-ns-untrusted", "nginx-ns-trusted"]:
            procs.stop(name)
        netns_down()
    for name in ["caddy", "nginx-ingress", "nginx-fa"]:
        procs.stop(name)

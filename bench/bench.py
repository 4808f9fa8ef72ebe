#!/usr/bin/env python3
"""Tollgate against the incumbents, side by side on loopback (called by bench/run.sh).

Contenders: Tollgate (introspection, JWT with the decision cache, JWT verifying every request, the
token-injecting proxy), Apache 2.4 with mod_auth_openidc and with mod_oauth2 (resource-server
mode), Apache serving the same file unprotected, nginx `return 200`. The IdP is a real Glewlwyd
behind an nginx TLS front whose access log counts the IdP calls. Every scenario runs for every
contender interleaved in rounds with the same token and the same `wrk -t1 -c32`; medians of the
rounds and ratios taken in the same run are the result. See bench/README.md."""

import argparse
import asyncio
import os
import platform
import re
import resource
import ssl
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from loopback import Processes, glewlwyd_token, nginx_conf, request, start_glewlwyd, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = dict(glewlwyd=18701, idp=18702, nginx=18703, apache_static=18710, oidc_jwt=18711, oidc_introspect=18712,
            oauth2_jwt=18713, oauth2_introspect=18714, tg_introspect=18720, tg_jwt=18721, tg_jwt_nocache=18722,
            tg_dev=18723, oidc_es256=18715, oidc_eddsa=18716)
SECRETS = dict(caller="bench-caller-s3cret", rs="bench-rs-s3cret")
IDP = "https://127.0.0.1:%d" % PORT["idp"]
ISSUER = IDP + "/api/oidc"
COLD_REQUESTS = 1000
ROTATING_TOKENS = 200


# ---------------------------------------------------------------- contenders

def alg_issuer(alg):
    return IDP + "/" + alg.lower()


def mint_alg_tokens(work, alg, count):
    """An ES256 or EdDSA issuer of our own (Glewlwyd signs RS256 only here): a key pair, its JWKS
    served by the IdP's nginx front at /keys/, and `count` distinct signed access tokens."""
    import base64
    import json
    import uuid
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    if alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}

        def sign(data):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
        sign = key.sign
    jwk.update({"kid": alg.lower() + "-1", "use": "sig", "alg": alg})
    os.makedirs(os.path.join(work, "keys"), exist_ok=True)
    with open(os.path.join(work, "keys", alg.lower() + ".json"), "w") as out:
        json.dump({"keys": [jwk]}, out)
    header = b64(json.dumps({"alg": alg, "typ": "at+jwt", "kid": jwk["kid"]}).encode())
    now = int(time.time())
    path = os.path.join(work, "rotating-%s.txt" % alg.lower())
    with open(path, "w") as out:
        for _ in range(count):
            claims = {"iss": alg_issuer(alg), "sub": "bench-caller", "client_id": "bench-caller", "aud": "bench", "scope": "api.read",
                      "iat": now, "exp": now + 3600, "jti": str(uuid.uuid4())}
            signing_input = header + "." + b64(json.dumps(claims).encode())
            out.write(signing_input + "." + b64(sign(signing_input.encode())) + "\n")
    return path


def make_tls(work):
    """A throw-away CA and a certificate for 127.0.0.1 (mod_auth_openidc refuses http:// IdP URLs)."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=work)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bench CA", "-keyout", "ca.key", "-out", "ca.crt")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "tls.key", "-out", "tls.csr")
    with open(os.path.join(work, "ext.cnf"), "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "ext.cnf", "-out", "tls.crt")
    return os.path.join(work, "ca.crt")


def start_nginx(procs, work):
    """One worker: the IdP's TLS front (its access log counts IdP calls) and the proxy upstream."""
    directory = os.path.join(work, "nginx")
    os.makedirs(directory)
    with open(os.path.join(directory, "nginx.conf"), "w") as conf:
        conf.write(nginx_conf(directory, """  log_format idp '$request_method $uri $status';
  upstream glewlwyd {{ server 127.0.0.1:{glewlwyd}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{idp} ssl;
    ssl_certificate {w}/tls.crt; ssl_certificate_key {w}/tls.key;
    access_log {d}/idp-access.log idp;
    location /keys/ {{ root {w}; }}
    location / {{ proxy_pass http://glewlwyd; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
  server {{ listen 127.0.0.1:{nginx}; location / {{ return 200 "ok\\n"; }} }}
""".format(d=directory, w=work, **PORT)))
    procs.start("nginx", ["nginx", "-c", directory + "/nginx.conf", "-p", directory])
    if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/" % PORT["nginx"])[0] == 200, 10, 0.05):
        raise RuntimeError("nginx did not start")
    return os.path.join(directory, "idp-access.log")


def idp_calls(access_log, path):
    with open(access_log) as log:
        return sum(1 for line in log if line.split(" ")[1:2] == [path])


def start_apache(procs, work, ca_file):
    directory = os.path.join(work, "apache")
    docs = os.path.join(directory, "htdocs")
    for sub in ["", "jwt", "introspect"]:
        os.makedirs(os.path.join(docs, sub), exist_ok=True)
        with open(os.path.join(docs, sub, "ok.txt"), "w") as page:
            page.write("ok\n")
    oauth2_ssl = "ssl_verify=false"  # mod_oauth2 talks to the same TLS front; its CA option differs by version
    # mod_auth_openidc verifying JWTs against Glewlwyd's JWKS, and against our ES256 and EdDSA issuers' keys
    oidc_jwt_vhosts = "".join("""<VirtualHost 127.0.0.1:%d>
  OIDCOAuthVerifyJwksUri %s
  <Location /jwt/>
    AuthType oauth20
    Require valid-user
  </Location>
</VirtualHost>
""" % (PORT[name], jwks) for name, jwks in [("oidc_jwt", ISSUER + "/jwks"), ("oidc_es256", IDP + "/keys/es256.json"),
                                           ("oidc_eddsa", IDP + "/keys/eddsa.json")])
    with open(os.path.join(directory, "httpd.conf"), "w") as conf:
        conf.write("""ServerRoot {d}
PidFile {d}/httpd.pid
DefaultRuntimeDir {d}
ErrorLog {d}/error.log
LogLevel warn
ServerName 127.0.0.1
User www-data
Group www-data
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule auth_openidc_module /usr/lib/apache2/modules/mod_auth_openidc.so
LoadModule oauth2_module /usr/lib/apache2/modules/mod_oauth2.so
Listen 127.0.0.1:{apache_static}
Listen 127.0.0.1:{oidc_jwt}
Listen 127.0.0.1:{oidc_introspect}
Listen 127.0.0.1:{oauth2_jwt}
Listen 127.0.0.1:{oauth2_introspect}
Listen 127.0.0.1:{oidc_es256}
Listen 127.0.0.1:{oidc_eddsa}
ListenBacklog 4096
KeepAlive On
MaxKeepAliveRequests 0
DocumentRoot {docs}
<Directory {docs}>
  Require all granted
</Directory>

OIDCCryptoPassphrase bench-passphrase
OIDCCacheType shm
OIDCCacheEncrypt On
OIDCCABundlePath {ca}
OAuth2Cache shm name=oauth2jwt
OAuth2Cache shm name=oauth2introspect

<VirtualHost 127.0.0.1:{apache_static}>
</VirtualHost>
{oidc_jwt_vhosts}<VirtualHost 127.0.0.1:{oidc_introspect}>
  OIDCOAuthIntrospectionEndpoint {issuer}/introspect
  OIDCOAuthIntrospectionEndpointAuth client_secret_post
  OIDCOAuthClientID bench-rs
  OIDCOAuthClientSecret {rs}
  OIDCOAuthRemoteUserClaim client_id
  <Location /introspect/>
    AuthType oauth20
    Require valid-user
    OIDCOAuthTokenIntrospectionInterval 0
  </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:{oauth2_jwt}>
  <Location /jwt/>
    AuthType oauth2
    OAuth2TokenVerify jwks_uri {issuer}/jwks jwks_uri.{ssl}&verify.iss=skip&verify.cache=oauth2jwt
    Require valid-user
  </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:{oauth2_introspect}>
  <Location /introspect/>
    AuthType oauth2
    OAuth2TokenVerify introspect {issuer}/introspect introspect.{ssl}&introspect.auth=client_secret_post&client_id=bench-rs&client_secret={rs}&verify.cache=oauth2introspect
    OAuth2TargetPass remote_user_claim=client_id
    Require valid-user
  </Location>
</VirtualHost>
""".format(d=directory, docs=docs, ca=ca_file, issuer=ISSUER, rs=SECRETS["rs"], ssl=oauth2_ssl, oidc_jwt_vhosts=oidc_jwt_vhosts, **PORT))
    procs.start("apache", ["apache2", "-f", directory + "/httpd.conf", "-DFOREGROUND"])
    if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ok.txt" % PORT["apache_static"])[0] == 200, 15, 0.05):
        raise RuntimeError("apache did not start: see %s/error.log" % directory)


def tollgate_config(port, mode, ca_file, max_ttl_seconds, algorithms=()):
    """One Glewlwyd issuer in `mode`; plus an ES256 / EdDSA issuer of our own for each of `algorithms`."""
    config = """server: {host: 127.0.0.1, port: %d}
log: {level: info, format: json}
inbound:
  cache: {max_entries: 100000, max_ttl_seconds: %d, negative_ttl_seconds: 10}
  issuers:
    - name: glewlwyd
      issuer: %s
      mode: %s
      tls: {ca_file: %s}
""" % (port, max_ttl_seconds, ISSUER, mode, ca_file)
    if mode == "introspection":
        config += '      introspection: {client_id: bench-rs, client_secret: "${BENCH_RS_SECRET}", auth_method: client_secret_post}\n'
    for alg in algorithms:
        config += """    - name: %s
      issuer: %s
      discovery: false
      jwks_uri: %s/keys/%s.json
      mode: jwt
      algorithms: [%s]
      tls: {ca_file: %s}
""" % (alg.lower(), alg_issuer(alg), IDP, alg.lower(), alg, ca_file)
    return config


def start_tollgate(procs, work, name, port, config_text, env=None):
    """Starts one Tollgate; returns milliseconds from exec to the first 200 on /ready."""
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as out:
        out.write(config_text)
    started = time.monotonic()
    process = procs.start(name, [ARGS.tollgate, "serve", "--config", path],
                          {"BENCH_RS_SECRET": SECRETS["rs"], "TOLLGATE_DATA_DIR": os.path.join(work, name + "-data"), **(env or {})})
    ready = wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % port, timeout=2)[0] == 200, 30, 0.005)
    if not ready or process.poll() is not None:
        raise RuntimeError("%s did not become ready; see %s/%s.log" % (name, work, name))
    return (time.monotonic() - started) * 1000


def rss_mb(process):
    with open("/proc/%d/status" % process.pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- load

def wrk(url, seconds, token=None, script=None, connections=32, env=None):
    """(req/s, p50 ms, p99 ms) of one `wrk -t1 -cN` run; raises on any non-2xx answer or socket error."""
    argv = ["wrk", "-t1", "-c%d" % connections, "-d%ss" % seconds, "--latency"]
    if token:
        argv += ["-H", "Authorization: Bearer " + token]
    if script:
        argv += ["-s", os.path.join(HERE, script)]
    out = subprocess.run(argv + [url], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=seconds * 4 + 30).stdout
    if "Non-2xx" in out:
        raise RuntimeError("wrk %s: %s" % (url, " ".join(out.split("\n")[-4:])))
    if "Socket errors" in out:
        print("note: wrk %s: %s" % (url, re.search(r"Socket errors:.*", out).group()), flush=True)

    def ms(value):
        number = float(re.match(r"[\d.]+", value).group())
        return number / 1000 if value.endswith("us") else number * 1000 if value.endswith("s") and not value.endswith("ms") else number
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    return rps, p50, p99, int(re.search(r"(\d+) requests in", out).group(1))


def targets(token, rotating, alg_tokens):
    """name → (url, wrk options). Apache serves a 3-byte file; Tollgate answers 200 with no body."""
    tg = lambda name, path: "http://127.0.0.1:%d%s" % (PORT[name], path)  # noqa: E731
    bearer = dict(token=token)
    return {
        "tg_health": (tg("tg_introspect", "/health"), {}),
        "apache_static": (tg("apache_static", "/ok.txt"), {}),
        "tg_introspect_auth": (tg("tg_introspect", "/auth"), bearer),
        "tg_introspect_plugin": (tg("tg_introspect", "/plugin/authenticate"), dict(script="plugin-authenticate.lua", env={"TOKEN": token})),
        "oidc_introspect": (tg("oidc_introspect", "/introspect/ok.txt"), bearer),
        "oauth2_introspect": (tg("oauth2_introspect", "/introspect/ok.txt"), bearer),
        "tg_jwt_cached": (tg("tg_jwt", "/auth"), bearer),
        "oauth2_jwt": (tg("oauth2_jwt", "/jwt/ok.txt"), bearer),
        "oidc_jwt": (tg("oidc_jwt", "/jwt/ok.txt"), bearer),
        "tg_jwt_every_request": (tg("tg_jwt_nocache", "/auth"), dict(script="rotate.lua", env={"TOKENS_FILE": rotating})),
        "oidc_jwt_every_request": (tg("oidc_jwt", "/jwt/ok.txt"), dict(script="rotate.lua", env={"TOKENS_FILE": rotating})),
        "tg_es256_every_request": (tg("tg_jwt_nocache", "/auth"), dict(script="rotate.lua", env={"TOKENS_FILE": alg_tokens["ES256"]})),
        "oidc_es256_every_request": (tg("oidc_es256", "/jwt/ok.txt"), dict(script="rotate.lua", env={"TOKENS_FILE": alg_tokens["ES256"]})),
        "tg_eddsa_every_request": (tg("tg_jwt_nocache", "/auth"), dict(script="rotate.lua", env={"TOKENS_FILE": alg_tokens["EdDSA"]})),
        "oidc_eddsa_every_request": (tg("oidc_eddsa", "/jwt/ok.txt"), dict(script="rotate.lua", env={"TOKENS_FILE": alg_tokens["EdDSA"]})),
        "nginx_direct": (tg("nginx", "/studies"), {}),
        "tg_proxy": (tg("tg_dev", "/proxy/bench/studies"), {}),
    }


async def concurrent_gets(port, path, token, count):
    """Opens `count` connections, then sends one request on each at once; returns the statuses."""
    connections = await asyncio.gather(*[asyncio.open_connection("127.0.0.1", port) for _ in range(count)])
    message = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n" % (path, token)).encode()
    for _, writer in connections:
        writer.write(message)
    await asyncio.gather(*[writer.drain() for _, writer in connections])

    async def status(reader, writer):
        line = await asyncio.wait_for(reader.readline(), 60)
        writer.close()
        return int(line.split()[1]) if line.startswith(b"HTTP/") else 0
    return await asyncio.gather(*[status(reader, writer) for reader, writer in connections])


def cold_miss(access_log, port, path, token):
    before = idp_calls(access_log, "/api/oidc/introspect")
    statuses = asyncio.run(concurrent_gets(port, path, token, COLD_REQUESTS))
    time.sleep(0.5)  # the access log line follows the answer
    return idp_calls(access_log, "/api/oidc/introspect") - before, sum(1 for s in statuses if s == 200)


def fill_cache(work, port, count):
    """Mints `count` distinct dev-issuer tokens, then sends each through /auth once."""
    tokens = os.path.join(work, "tokens.txt")
    env = {"TOKENS_FILE": tokens, "TOKENS_WANTED": str(count)}
    subprocess.run(["wrk", "-t1", "-c8", "-d600s", "-s", os.path.join(HERE, "mint.lua"),
                    "http://127.0.0.1:%d/dev-issuer/token" % port], env={**os.environ, **env}, check=True, capture_output=True)
    with open(tokens) as minted:
        distinct = len(set(minted.read().split()))
    started = time.monotonic()
    subprocess.run(["wrk", "-t1", "-c32", "-d600s", "-s", os.path.join(HERE, "feed.lua"), "http://127.0.0.1:%d/auth" % port],
                   env={**os.environ, **env}, check=True, capture_output=True)
    return distinct, time.monotonic() - started


def metric(port, name):
    _, _, body = request("GET", "http://127.0.0.1:%d/metrics" % port)
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def verify_rate(seconds, tasks):
    bench = os.path.join(os.path.dirname(ARGS.tollgate), "tollgate-bench")
    out = subprocess.run([bench, "verify", "--seconds", str(seconds), "--tasks", str(tasks)],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"= ([\d.]+)", out).group(1))


# ---------------------------------------------------------------- report

def versions():
    def first_line(argv):
        result = subprocess.run(argv, capture_output=True, text=True)
        return (result.stdout or result.stderr).strip().split("\n")[0]
    packages = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "apache2", "libapache2-mod-auth-openidc",
                               "libapache2-mod-oauth2", "glewlwyd", "nginx-light", "wrk"], capture_output=True, text=True).stdout
    swift = first_line(["swift", "--version"]) if subprocess.run(["which", "swift"], capture_output=True).returncode == 0 else "?"
    return "; ".join(line for line in packages.strip().split("\n") if line), swift, first_line([ARGS.tollgate, "version"])


def report(results, extra, rounds, seconds):
    med = {name: tuple(statistics.median(run[i] for run in runs) for i in range(3)) for name, runs in results.items()}
    spread = {name: "%.0f–%.0f" % (min(run[0] for run in runs), max(run[0] for run in runs)) for name, runs in results.items()}
    rps = lambda name: med[name][0]  # noqa: E731
    packages, swift, tollgate = versions()
    lines = ["## %s — Tollgate %s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), tollgate), "",
             "Machine: %d cores, %.0f GiB, Linux %s; %s. Contenders: %s." % (
                 os.cpu_count(), os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, platform.release(), swift, packages),
             "IdP: Glewlwyd (sqlite on tmpfs) behind an nginx TLS front. One %d-byte Glewlwyd RS256 JWT for every scenario. "
             "`wrk -t1 -c32 -d%ds` on the same cores; medians of %d interleaved rounds after a warm-up." % (len(extra["token"]), seconds, rounds), ""]

    def table(title, rows):
        lines.extend(["### " + title, "", "| target | req/s (rounds) | p50 ms | p99 ms | × mod_auth_openidc | × mod_oauth2 | of Tollgate /health |",
                      "|---|---|---|---|---|---|---|"])
        for name, label, oidc, oauth2 in rows:
            if name not in med:
                lines.append("| %s | refused the token (algorithm not supported) | | | | | |" % label)
                continue
            r, p50, p99 = med[name]
            ratio = lambda other: ("%.2f×" % (r / rps(other))) if other in med else ""  # noqa: E731
            lines.append("| %s | %.0f (%s) | %.2f | %.2f | %s | %s | %.0f%% |" % (label, r, spread[name], p50, p99, ratio(oidc), ratio(oauth2), 100 * r / rps("tg_health")))
        lines.append("")

    table("Floors", [("tg_health", "Tollgate `GET /health`", None, None), ("apache_static", "Apache, the same file unprotected", None, None),
                     ("nginx_direct", "nginx `return 200`", None, None)])
    table("1. Cached introspection decision", [
        ("tg_introspect_auth", "Tollgate `GET /auth` (forward-auth)", "oidc_introspect", "oauth2_introspect"),
        ("tg_introspect_plugin", "Tollgate `POST /plugin/authenticate` (MockForge)", "oidc_introspect", "oauth2_introspect"),
        ("oidc_introspect", "mod_auth_openidc, introspection cached until exp", None, None),
        ("oauth2_introspect", "mod_oauth2, introspection cached", None, None)])
    table("2. JWT via JWKS, decision cache on", [
        ("tg_jwt_cached", "Tollgate `GET /auth`, mode jwt", "oidc_jwt", "oauth2_jwt"),
        ("oauth2_jwt", "mod_oauth2, JWT (result cached)", None, None),
        ("oidc_jwt", "mod_auth_openidc, JWT (verified every request)", None, None)])
    table("3. JWT via JWKS, every request verified (%d tokens round robin per algorithm)" % extra["rotating"], [
        ("tg_jwt_every_request", "Tollgate `GET /auth`, RS256 (Glewlwyd), mode jwt, `max_ttl_seconds: 0`", "oidc_jwt_every_request", None),
        ("oidc_jwt_every_request", "mod_auth_openidc, RS256", None, None),
        ("tg_es256_every_request", "Tollgate `GET /auth`, ES256 (P-256)", "oidc_es256_every_request", None),
        ("oidc_es256_every_request", "mod_auth_openidc, ES256", None, None),
        ("tg_eddsa_every_request", "Tollgate `GET /auth`, EdDSA (Ed25519)", "oidc_eddsa_every_request", None),
        ("oidc_eddsa_every_request", "mod_auth_openidc, EdDSA", None, None)])
    lines.extend(["Tollgate verified %d signatures for %d requests in this scenario (coalesced: %d)." % extra["verified"], ""])
    r_direct, p50_direct, p99_direct = med["nginx_direct"]
    r_proxy, p50_proxy, p99_proxy = med["tg_proxy"]
    lines.extend(["### 5. Proxy overhead", "",
                  "| target | req/s | p50 ms | p99 ms |", "|---|---|---|---|",
                  "| nginx `return 200`, straight | %.0f | %.2f | %.2f |" % (r_direct, p50_direct, p99_direct),
                  "| the same through Tollgate `/proxy/bench/` (token injected) | %.0f | %.2f | %.2f |" % (r_proxy, p50_proxy, p99_proxy),
                  "| the same, 1 connection (`-c1`), straight → proxied | %.0f → %.0f | %.3f → %.3f | %.3f → %.3f |" % extra["proxy_c1"],
                  "", "Added latency at 32 connections: p50 +%.2f ms, p99 +%.2f ms; at 1 connection: p50 +%.3f ms, p99 +%.3f ms. "
                  "Token fetches for all proxied requests: %s." % (p50_proxy - p50_direct, p99_proxy - p99_direct,
                                                                    extra["proxy_c1"][3] - extra["proxy_c1"][2],
                                                                    extra["proxy_c1"][5] - extra["proxy_c1"][4], extra["token_fetches"]), ""])
    cold = extra["cold"]
    lines.extend(["### 4. Cold misses: %d concurrent requests carrying one never-seen token" % COLD_REQUESTS, "",
                  "| contender | introspection calls at the IdP | 200 answers |", "|---|---|---|"]
                 + ["| %s | %d | %d |" % (label, calls, ok) for label, (calls, ok) in cold.items()] + [""])
    lines.extend(["### 6–7. Memory and start-up (Tollgate, shipped config: embedded dev issuer)", "",
                  "- start to ready: **%.0f ms** (RSA key generated, discovery, JWKS loaded)" % extra["ready_ms"],
                  "- idle RSS: **%.1f MB**" % extra["idle_rss"],
                  "- after %d distinct tokens verified and cached (cache entries: %d, fed in %.1f s): **%.1f MB** (+%.1f MB)" % (
                      extra["filled"], extra["cache_entries"], extra["fill_seconds"], extra["filled_rss"], extra["filled_rss"] - extra["idle_rss"]),
                  "- uncached RS256 verification in-process (`tollgate-bench verify`): %.0f/s with 1 task, %.0f/s with 2" % extra["verify"], ""])

    if extra["orthanc"]:
        lines.extend(["### 8. Orthanc end to end", "", extra["orthanc"][0]])

    cached = rps("tg_introspect_auth")
    plugin = rps("tg_introspect_plugin")
    added_p50 = p50_proxy - p50_direct
    cold_calls = cold["Tollgate `/auth`"][0]
    filled_growth = extra["filled_rss"] - extra["idle_rss"]
    quick_fill = " (quick run: %d tokens)" % extra["filled"] if extra["filled"] < 100000 else ""
    every = rps("tg_jwt_every_request") / rps("oidc_jwt_every_request")
    checks = [  # (target, measured, met)
        ("cached decision ≥ 4× mod_auth_openidc", "%.2f×" % (cached / rps("oidc_introspect")), cached >= 4 * rps("oidc_introspect")),
        ("cached decision ≥ 3× mod_oauth2", "%.2f×" % (cached / rps("oauth2_introspect")), cached >= 3 * rps("oauth2_introspect")),
        ("cached decision ≥ 0.4× nginx `return 200`", "%.2f×" % (cached / rps("nginx_direct")), cached >= 0.4 * rps("nginx_direct")),
        ("cached decision ≥ 85% of /health", "%.0f%%" % (100 * cached / rps("tg_health")), cached >= 0.85 * rps("tg_health")),
        ("MockForge `/plugin/authenticate` ≥ 0.8× cached `/auth`", "%.2f×" % (plugin / cached), plugin >= 0.8 * cached),
        ("cached decision p99 ≤ 10 ms", "%.2f ms" % med["tg_introspect_auth"][2], med["tg_introspect_auth"][2] <= 10),
        ("every-request RS256 ≥ 2.5× mod_auth_openidc JWT", "%.2f×" % every, every >= 2.5),
        ("cold misses: exactly 1 IdP call", "%d call(s)" % cold_calls, cold_calls == 1),
        ("proxy added p50 ≤ 1 ms (32 connections)", "%.2f ms" % added_p50, added_p50 <= 1),
        ("idle RSS ≤ 40 MB", "%.1f MB" % extra["idle_rss"], extra["idle_rss"] <= 40),
        ("+100,000 cached decisions ≤ +35 MB", "+%.1f MB%s" % (filled_growth, quick_fill), filled_growth <= 35),
        ("start to ready ≤ 1 s", "%.0f ms" % extra["ready_ms"], extra["ready_ms"] <= 1000),
    ]
    for label, ratio in (extra["orthanc"][1].items() if extra["orthanc"] else []):
        checks.append(("Orthanc with the shipped filter ≥ 0.9× without, 8 clients: %s" % label, "%.2f×" % ratio, ratio >= 0.9))
    lines.extend(["### Targets", "", "| target | measured | met |", "|---|---|---|"])
    lines.extend("| %s | %s | %s |" % (label, shown, "yes" if met else "**no**") for label, shown, met in checks)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main

def run(procs, work):
    quick = ARGS.quick
    rounds, seconds, warmup = (1, 2, 1) if quick else (3, 10, 3)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # 1,000 concurrent connections, inherited by all

    ca_file = make_tls(work)
    access_log = start_nginx(procs, work)
    start_glewlwyd(procs, os.path.join(work, "glewlwyd"), PORT["glewlwyd"], ["api.read", "introspect"],
                   [("bench-caller", SECRETS["caller"], ["api.read"]), ("bench-rs", SECRETS["rs"], ["introspect"])],
                   3600, external_url=IDP)
    tls = ssl.create_default_context(cafile=ca_file)
    fresh_token = lambda: glewlwyd_token(IDP, "bench-caller", SECRETS["caller"], "api.read", context=tls)  # noqa: E731
    token = fresh_token()
    start_apache(procs, work, ca_file)
    start_tollgate(procs, work, "tg_introspect", PORT["tg_introspect"], tollgate_config(PORT["tg_introspect"], "introspection", ca_file, 300))
    start_tollgate(procs, work, "tg_jwt", PORT["tg_jwt"], tollgate_config(PORT["tg_jwt"], "jwt", ca_file, 300))
    alg_tokens = {alg: mint_alg_tokens(work, alg, ROTATING_TOKENS) for alg in ("ES256", "EdDSA")}
    start_tollgate(procs, work, "tg_jwt_nocache", PORT["tg_jwt_nocache"],
                   tollgate_config(PORT["tg_jwt_nocache"], "jwt", ca_file, 0, algorithms=("ES256", "EdDSA")))
    with open(os.path.join(ARGS.repo, "config.yaml")) as shipped:  # 125,000: room for the 100,000 fill over uneven shards
        dev_config = shipped.read().replace("max_entries: 100000", "max_entries: 125000") + """
outbound:
  servers:
    bench:
      url: http://127.0.0.1:%d/
      token_endpoint: http://127.0.0.1:%d/dev-issuer/token
      client_id: tollgate-dev
      client_secret: tollgate-dev-secret
admin:
  auth_mode: none
""" % (PORT["nginx"], PORT["tg_dev"])
    dev_env = {"TOLLGATE_PORT": str(PORT["tg_dev"]), "TOLLGATE_DEV_MODE": "auto"}
    ready_ms = start_tollgate(procs, work, "tg_dev", PORT["tg_dev"], dev_config, dev_env)
    time.sleep(1)
    idle_rss = rss_mb(procs.running["tg_dev"])

    rotating = os.path.join(work, "rotating-tokens.txt")
    with open(rotating, "w") as out:
        out.write("".join(fresh_token() + "\n" for _ in range(ROTATING_TOKENS)))
    plan = targets(token, rotating, alg_tokens)
    warmed, refused = {}, []
    for name, (url, options) in list(plan.items()):  # every contender must accept the token before anything is timed
        own = next((open(alg_tokens[alg]).readline().strip() for alg in alg_tokens if alg.lower() + "_" in name), token)
        status = request("POST" if "plugin" in name else "GET", url,
                         body=b'{"context":{"method":"GET","uri":"/","headers":{}},"credentials":{"type":"bearer","token":"%s"}}' % own.encode() if "plugin" in name else None,
                         headers={"Authorization": "Bearer " + own})[0]
        if status != 200 and name.startswith("oidc_e"):  # a peer without this algorithm is reported, not fatal
            refused.append(name)
            del plan[name]
            continue
        if status != 200:
            raise RuntimeError("%s answered %s to a valid token before the run" % (name, status))
        warmed[name] = wrk(url, warmup, **options)
    results = {name: [] for name in plan}
    for round_number in range(1, rounds + 1):
        for name, (url, options) in plan.items():
            results[name].append(wrk(url, seconds, **options))
            print("round %d %-22s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms" % ((round_number, name) + results[name][-1][:3]), flush=True)

    extra = {"token": token, "ready_ms": ready_ms, "idle_rss": idle_rss, "rotating": ROTATING_TOKENS, "refused": refused}
    nocache = PORT["tg_jwt_nocache"]
    every = [name for name in plan if name.startswith("tg_") and name.endswith("_every_request")]
    extra["verified"] = (int(metric(nocache, "tollgate_cache_misses_total") or 0),
                         sum(sum(run[3] for run in results[name]) + warmed[name][3] + 1 for name in every),  # + warm-up, check
                         int(metric(nocache, "tollgate_cache_coalesced_total") or 0))
    direct = wrk(plan["nginx_direct"][0], seconds, connections=1)
    proxied = wrk(plan["tg_proxy"][0], seconds, connections=1)
    extra["proxy_c1"] = (direct[0], proxied[0], direct[1], proxied[1], direct[2], proxied[2])
    extra["token_fetches"] = int(metric(PORT["tg_dev"], 'tollgate_token_fetch_total{server="bench",result="success"}') or 0)

    extra["cold"] = {}
    for label, port, path in [("Tollgate `/auth`", PORT["tg_introspect"], "/auth"),
                              ("mod_auth_openidc", PORT["oidc_introspect"], "/introspect/ok.txt"),
                              ("mod_oauth2", PORT["oauth2_introspect"], "/introspect/ok.txt")]:
        extra["cold"][label] = cold_miss(access_log, port, path, fresh_token())
        print("cold misses %s: %d IdP calls, %d answers 200" % ((label,) + extra["cold"][label]), flush=True)

    extra["filled"], extra["fill_seconds"] = fill_cache(work, PORT["tg_dev"], 2000 if quick else 100000)
    extra["cache_entries"] = int(metric(PORT["tg_dev"], "tollgate_cache_entries") or 0)
    extra["filled_rss"] = rss_mb(procs.running["tg_dev"])
    procs.stop_all()
    extra["verify"] = (verify_rate(seconds, 1), verify_rate(seconds, 2))
    extra["orthanc"] = None
    if not quick:  # Orthanc users' figure: the shipped filter vs none (bench/orthanc.py)
        import orthanc as orthanc_bench
        orthanc_bench.ARGS = argparse.Namespace(tollgate=ARGS.tollgate, rounds=rounds, seconds=seconds)
        orthanc_work = os.path.join(work, "orthanc")
        os.makedirs(orthanc_work)
        orthanc_procs = Processes(orthanc_work)
        try:
            extra["orthanc"] = orthanc_bench.run(orthanc_procs, orthanc_work)
        finally:
            orthanc_procs.stop_all()
    return report(results, extra, rounds, seconds)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--quick", action="store_true")
    ARGS = parser.parse_args()
    ARGS.tollgate = os.path.abspath(ARGS.tollgate)
    procs = Processes(ARGS.work)
    try:
        summary = run(procs, ARGS.work)
    finally:
        procs.stop_all()
    print()
    print(summary)
    if not ARGS.quick:
        path = os.path.join(ARGS.repo, "BENCHMARKS.md")
        previous = open(path).read() if os.path.exists(path) else ""
        marker = previous.find("\n## ")
        older = previous[marker + 1:] if marker >= 0 else ""
        with open(path, "w") as out:
            out.write(previous[:marker + 1] + summary + "\n" + older if marker >= 0 else "# Benchmarks\n\n" + summary)


ARGS = None
if __name__ == "__main__":
    main()

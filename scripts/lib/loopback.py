"""Loopback helpers shared by the end-to-end suite (Tests/e2e) and the benchmark harness (bench/):
HTTP without exceptions for statuses, processes stopped by PID, and a throw-away Glewlwyd IdP."""

import base64
import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request


def request(method, url, body=None, headers=None, timeout=15, opener=None, context=None):
    """(status, headers, body bytes); HTTP errors are answers, not exceptions."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and not req.has_header("Content-type"):  # urllib capitalises header names
        req.add_header("Content-Type", "application/json")
    try:
        with (opener or urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))).open(req, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return 0, {}, str(error).encode()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(port, seconds=10):
    """Until http://127.0.0.1:`port`/ready answers 200; exits the run when it never does."""
    if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % port, timeout=2)[0] == 200, seconds, interval=0.05):
        raise SystemExit("tollgate on port %d never became ready" % port)


def as_json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def wait_until(condition, seconds, interval=0.25):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Processes:
    def __init__(self, work):
        self.work = work
        self.running = {}

    def start(self, name, argv, env=None):
        running = self.running.get(name)
        if running is not None and running.poll() is None:
            # Replacing the entry would leave the first process running after stop_all().
            raise RuntimeError("a process named %r is already running" % name)
        log = open(os.path.join(self.work, name + ".log"), "ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                   start_new_session=True)
        self.running[name] = process
        return process

    def stop(self, name):
        process = self.running.pop(name, None)
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self):
        for name in list(self.running):
            self.stop(name)


# ---------------------------------------------------------------- Glewlwyd

def start_glewlwyd(procs, directory, port, scopes, clients, token_seconds, external_url=None, oidc_extra=None, code_clients=(), users=(),
                   public_clients=(), tls_clients=(), webapp=False, name="glewlwyd"):
    """A throw-away Glewlwyd on 127.0.0.1:`port` (plain HTTP, sqlite DB in `directory`, so put it on
    tmpfs for speed) with an OIDC plugin "oidc" (RS256 JWT access tokens, introspection on) and
    confidential client-credentials `clients` [(id, secret, scopes)]. `external_url` is what it calls
    itself (a TLS front, say); the issuer is `<external_url>/api/oidc`. `oidc_extra` adds plugin
    parameters; `code_clients` [(id, secret, scopes, redirect_uri)] are confidential clients of the
    authorization-code flow with refresh tokens; `public_clients` [(id, scopes, redirect_uri)] the
    same without a secret (PKCE only); `tls_clients` [(id, scopes, san_dns)] client-credentials clients
    authenticated by a TLS client certificate; `users` [(username, password, scopes)] can log in.
    `name` is its process name in `procs` (a second Glewlwyd needs its own, or the first is never
    stopped). `webapp` serves Glewlwyd's own login and consent pages (a copy of the Debian webapp with its
    symlinks resolved, configured for this instance), so that a browser can sign in.
    Returns the external URL."""
    os.makedirs(directory)
    local = "http://127.0.0.1:%d" % port
    base = external_url or local
    with open("/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3", "rb") as schema:
        subprocess.run(["sqlite3", os.path.join(directory, "glewlwyd.db")], stdin=schema, check=True)
    subprocess.run(["openssl", "genrsa", "-out", os.path.join(directory, "sign.key"), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", os.path.join(directory, "sign.key"), "-pubout", "-out",
                    os.path.join(directory, "sign.pub")], check=True, capture_output=True)
    with open(os.path.join(directory, "glewlwyd.conf"), "w") as conf:
        conf.write("""port=%d
bind_address="127.0.0.1"
external_url="%s"
api_prefix="api"
login_url="login.html"
allow_origin="*"
log_mode="file"
log_level="WARNING"
log_file="%s/glewlwyd.log"
cookie_secure=0
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie,api_key"
profile_session_authentication="cookie"
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
use_secure_connection=false
secure_connection_key_file="%s/tls.key"
secure_connection_pem_file="%s/tls.crt"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = "%s/glewlwyd.db"; };
""" % (port, base, directory, directory, directory, directory))
        if webapp:
            conf.write(webapp_config(directory))
    procs.start(name, ["glewlwyd", "-c", os.path.join(directory, "glewlwyd.conf")])
    if not wait_until(lambda: request("GET", local + "/config")[0] == 200, 20):
        raise RuntimeError("glewlwyd did not start")

    admin = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def post(path, body):
        status, _, answer = request("POST", local + path, body, opener=admin)
        if status != 200:
            raise RuntimeError("glewlwyd %s -> %s %s" % (path, status, answer[:200]))

    post("/api/auth/", {"username": "admin", "password": "password"})
    for scope in scopes:
        post("/api/scope/", {"name": scope, "display_name": scope, "description": scope, "password_required": False, "scheme": {}})
    with open(os.path.join(directory, "sign.key")) as key, open(os.path.join(directory, "sign.pub")) as pub:
        post("/api/mod/plugin/", {
            "module": "oidc", "name": "oidc", "display_name": "OIDC", "enabled": True, "parameters": {
                "iss": base + "/api/oidc", "jwt-type": "rsa", "jwt-key-size": "256", "key": key.read(), "cert": pub.read(),
                "jwks-show": True, "access-token-duration": token_seconds, "refresh-token-duration": 1209600, "code-duration": 600,
                "allow-non-oidc": True, "auth-type-client-enabled": True, "auth-type-code-enabled": True,
                "auth-type-refresh-enabled": True, "auth-type-token-enabled": False, "auth-type-password-enabled": False,
                "allowed-scope": ["openid"], "scope": [], "additional-parameters": [], "claims": [],
                "name-claim": "on-demand", "email-claim": "no", "scope-claim": "no", "address-claim": {"type": "no"},
                "introspection-revocation-allowed": True, "introspection-revocation-allow-target-client": True,
                "introspection-revocation-auth-scope": ["introspect"], **(oidc_extra or {})}})
    for client_id, secret, client_scopes in clients:
        post("/api/client/", {"client_id": client_id, "name": client_id, "enabled": True, "confidential": True,
                              "client_secret": secret, "scope": client_scopes, "authorization_type": ["client_credentials"],
                              "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"], "redirect_uri": []})
    for client_id, secret, client_scopes, redirect_uri in code_clients:
        post("/api/client/", {"client_id": client_id, "name": client_id, "enabled": True, "confidential": True,
                              "client_secret": secret, "scope": client_scopes, "authorization_type": ["code", "refresh_token"],
                              "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"], "redirect_uri": [redirect_uri]})
    # Client-credentials clients that authenticate with a TLS client certificate (RFC 8705
    # tls_client_auth) naming this DNS name: their tokens are bound to it (cnf.x5t#S256). The SAN,
    # not the subject DN: the database client module's default data-format keeps only the SANs.
    for client_id, client_scopes, san_dns in tls_clients:
        post("/api/client/", {"client_id": client_id, "name": client_id, "enabled": True, "confidential": True,
                              "scope": client_scopes, "authorization_type": ["client_credentials"],
                              "token_endpoint_auth_method": ["tls_client_auth"], "tls_client_auth_san_dns": san_dns,
                              "redirect_uri": []})
    for client_id, client_scopes, redirect_uri in public_clients:
        post("/api/client/", {"client_id": client_id, "name": client_id, "enabled": True, "confidential": False,
                              "scope": client_scopes, "authorization_type": ["code", "refresh_token"],
                              "token_endpoint_auth_method": ["none"], "redirect_uri": [redirect_uri]})
    for username, password, user_scopes in users:
        post("/api/user/", {"username": username, "password": password, "name": username, "enabled": True, "scope": user_scopes})
    return base


def webapp_config(directory):
    """Glewlwyd's webapp copied into `directory`/webapp (symlinks resolved: Debian's config.json
    points at a directory holding it) and the glewlwyd.conf lines that serve it at the root."""
    source = "/usr/share/glewlwyd/webapp"
    target = os.path.join(directory, "webapp")
    shutil.copytree(source, target, symlinks=False, ignore=shutil.ignore_patterns("config.json"))
    config = "/etc/glewlwyd/config-2.7.json"
    shutil.copyfile(os.path.join(config, "config.json") if os.path.isdir(config) else config, os.path.join(target, "config.json"))
    types = [(".html", "text/html"), (".css", "text/css"), (".js", "application/javascript"), (".json", "application/json"),
             (".png", "image/png"), (".jpg", "image/jpeg"), (".ico", "image/x-icon"), (".svg", "image/svg+xml"),
             (".woff", "font/woff"), (".woff2", "font/woff2"), (".ttf", "font/ttf"), (".map", "application/json")]
    entries = ",\n".join('  { extension = "%s"\n    mime_type = "%s"\n    compress = 0 }' % pair for pair in types)
    return 'static_files_path="%s/"\nstatic_files_mime_types = (\n%s\n);\n' % (target, entries)


def glewlwyd_token(base, client_id, secret, scope, context=None):
    auth = base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()
    status, _, body = request("POST", base + "/api/oidc/token",
                              urllib.parse.urlencode({"grant_type": "client_credentials", "scope": scope}).encode(),
                              {"Authorization": "Basic " + auth, "Content-Type": "application/x-www-form-urlencoded"}, context=context)
    answer = as_json(body) or {}
    if status != 200 or "access_token" not in answer:
        raise RuntimeError("token for %s: %s" % (client_id, status))
    return answer["access_token"]


def nginx_conf(directory, http_body):
    """A foreground, single-worker nginx.conf keeping every file under `directory`; `http_body`
    goes inside `http { }`."""
    d = directory
    return ("worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
            "events { worker_connections 4096; }\nhttp {\n  access_log off;\n"
            "  client_body_temp_path %s/body; proxy_temp_path %s/proxy;\n"
            "  fastcgi_temp_path %s/fastcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n%s}\n") % (d, d, d, d, d, d, d, http_body)


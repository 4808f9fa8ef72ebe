"""Tollgate as the web service of Orthanc's official authorization plugin, run for real (issue 28):
Orthanc 1.12.10 and orthanc-authorization 0.11.4 from the shared peers kit, with Debian's DICOMweb
1.7 and Python 4.0 plugins, configured as orthanc-auth-service's documentation configures it, and
Glewlwyd tokens whose scopes are the roles.

Between the plugin and Tollgate sits a recording relay (bytes forwarded unchanged, chunked bodies
included): every body the plugin sends is kept, its tokens replaced by placeholders, and compared
with Tests/fixtures/orthanc-authorization/plugin-requests.json, the bodies the contract suite
replays against Tollgate."""

import json
import os
import socket
import threading
import time

from loopback import as_json, request, wait_until
from tollgate_configs import audit_file, glewlwyd_inbound

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FIXTURE = os.path.join(REPO, "Tests", "fixtures", "orthanc-authorization", "plugin-requests.json")

ROLES = {
    "roles": {
        "dicom.read": {"permissions": ["view", "download"], "authorized-labels": ["*"]},
        "dicom.write": {"permissions": ["view", "download", "upload", "share", "edit-labels"], "authorized-labels": ["*"]},
        "orthanc.delete": {"permissions": ["view", "delete"], "authorized-labels": ["*"]},
        "orthanc.admin": {"permissions": ["admin-permissions"], "authorized-labels": ["*"]},
        "ward.a": {"permissions": ["view"], "authorized-labels": ["ward-a"]},
    },
    "available-labels": [],
}


def kit_dir():
    """The shared peers kit: $TOLLGATE_PEERS_DIR, else ../shared/peers beside the repository, else /work/shared/peers."""
    for candidate in [os.environ.get("TOLLGATE_PEERS_DIR"), os.path.join(REPO, "..", "shared", "peers"), "/work/shared/peers"]:
        if candidate and os.path.exists(os.path.join(candidate, "orthanc-official", "bin", "Orthanc")):
            return os.path.join(candidate, "orthanc-official")
    return None


# ---------------------------------------------------------------- the recording relay

class RecordingRelay:
    """HTTP/1.1 between the plugin and Tollgate: each request is forwarded byte for byte (chunked
    or not), its body decoded and kept; each answer relayed back."""

    def __init__(self, port, upstream_port):
        self.port = port
        self.upstream_port = upstream_port
        self.calls = []
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.server.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = None
        reader = client.makefile("rb")
        try:
            while True:
                head, raw_body, body, chunked = read_message(reader)
                if head is None:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[0], lines[0].split(" ")[1]
                headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in lines[1:] if ":" in line}
                with self.lock:
                    self.calls.append({"method": method, "path": path, "chunked": chunked, "content_length": "content-length" in headers,
                                       "basic": headers.get("authorization", "").startswith("Basic "), "body": body})
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
                    upstream_reader = upstream.makefile("rb")
                upstream.sendall(head + b"\r\n\r\n" + raw_body)
                answer_head, answer_raw, _, _ = read_message(upstream_reader)
                if answer_head is None:
                    return
                client.sendall(answer_head + b"\r\n\r\n" + answer_raw)
        except OSError:
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()


def read_message(reader):
    """(head, raw body bytes as sent, decoded body, chunked?) of one HTTP/1.1 message; head None at end of stream."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None, b"", b"", False
        head += line
    head = head[:-4]
    fields = {line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")[1:] if b":" in line}
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        raw, body = b"", b""
        while True:
            size_line = reader.readline()
            raw += size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            chunk = reader.read(size + 2)
            raw += chunk
            if size == 0:
                return head, raw, body, True
            body += chunk[:-2]
    length = int(fields.get(b"content-length", b"0"))
    body = reader.read(length) if length else b""
    return head, body, body, False


# ---------------------------------------------------------------- fixtures

def redact(call, tokens, ids):
    """A recorded call with every token replaced by its placeholder (`<token:reader>`) and every
    resource id by its study's (`<orthanc-id:A>`, `<dicom-uid:B>`)."""
    text = call["body"].decode("utf-8", "replace")
    for name, value in tokens.items():
        if value:
            text = text.replace(value, "<token:%s>" % name)
    for value, placeholder in ids.items():
        text = text.replace(value, placeholder)
    body = as_json(text.encode())
    if isinstance(body, dict):
        if isinstance(body.get("labels"), list):
            body["labels"] = sorted(body["labels"])
        if body.get("expiration-date") is not None:
            body["expiration-date"] = "<date>"
    return {"method": call["method"], "path": call["path"].split("?")[0], "body": body}


def shape(entry):
    body = entry["body"]
    return (entry["method"], entry["path"] if not entry["path"].startswith("/tokens/") or entry["path"] in ("/tokens/validate", "/tokens/decode")
            else "/tokens/{type}", tuple(sorted(body.keys())) if isinstance(body, dict) else type(body).__name__)


# ---------------------------------------------------------------- the checks

def tollgate_config(port, glewlwyd, roles_file, key_file, public_root):
    return glewlwyd_inbound(port, glewlwyd) + """orthanc:
  webservice_username: orthanc
  webservice_password: "${E2E_WEBSERVICE_SECRET}"
  permissions:
    role_claims: [scope]
    roles_file: %s
  share_tokens:
    key_file: %s
    public_orthanc_root: %s
""" % (roles_file, key_file, public_root)


def orthanc_config(work, kit, port, dicom_port, relay_port, password):
    directory = os.path.join(work, "plugin-orthanc")
    os.makedirs(os.path.join(directory, "storage"), exist_ok=True)
    config = {
        "Name": "plugin", "StorageDirectory": directory + "/storage", "IndexDirectory": directory + "/storage",
        "HttpPort": port, "DicomPort": dicom_port, "DicomAet": "ORTHANCP", "RemoteAccessAllowed": False,
        # As orthanc-auth-service's setups: Orthanc's own Basic authentication off, the plugin decides.
        "AuthenticationEnabled": False,
        "Plugins": [os.path.join(kit, "bin", "libOrthancAuthorization.so"), "/usr/lib/orthanc/libOrthancDicomWeb.so.1.7",
                    "/usr/lib/orthanc/libOrthancPython.so.4.0"],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "Authorization": {
            "WebServiceRootUrl": "http://127.0.0.1:%d/" % relay_port,
            "WebServiceUsername": "orthanc",
            "WebServicePassword": password,
            "WebServiceIdentifier": "orthanc-plugin",
            "TokenHttpHeaders": ["Authorization", "api-key"],
            "TokenGetArguments": ["token"],
            "StandardConfigurations": ["orthanc-explorer-2", "stone-webviewer"],
            "CheckedLevel": "studies",
        },
    }
    path = os.path.join(directory, "orthanc.json")
    with open(path, "w") as out:
        json.dump(config, out, indent=1)
    return path


def check_plugin(suite, procs, work, tollgate_bin, glewlwyd, mint, env, secrets, ports, used_tokens, make_dicom):
    kit = kit_dir()
    if kit is None:
        suite.check("13. the shared peers kit (Orthanc 1.12.10 + orthanc-authorization) is present", False,
                    "set TOLLGATE_PEERS_DIR to the folder holding orthanc-official/")
        return
    roles_file = os.path.join(work, "plugin-roles.json")
    with open(roles_file, "w") as out:
        out.write("// roles, in orthanc-auth-service's permissions.json shape (comments allowed)\n" + json.dumps(ROLES, indent=1))
    key_file = os.path.join(work, "plugin-share.key")
    with open(key_file, "wb") as out:
        out.write(os.urandom(32))
    orthanc = "http://127.0.0.1:%d" % ports["orthanc"]
    config = os.path.join(work, "tollgate-plugin.yaml")
    with open(config, "w") as out:
        out.write(tollgate_config(ports["tg"], glewlwyd, roles_file, key_file, orthanc + "/") + audit_file(os.path.join(work, "tollgate-plugin.audit.jsonl")))
    procs.start("tollgate-plugin", [tollgate_bin, "serve", "--config", config], env=env)
    tg = "http://127.0.0.1:%d" % ports["tg"]
    if not wait_until(lambda: request("GET", tg + "/ready")[0] == 200, 30):
        suite.check("13. Tollgate for the plugin ready", False)
        return
    relay = RecordingRelay(ports["relay"], ports["tg"])
    try:
        # Default verbosity: at --verbose Orthanc logs the URIs plugins call, share-link ?token= included.
        procs.start("orthanc-plugin", [os.path.join(kit, "bin", "Orthanc"),
                                       orthanc_config(work, kit, ports["orthanc"], ports["dicom"], ports["relay"], secrets["webservice"])])
        run_checks(suite, orthanc, tg, mint, used_tokens, relay, make_dicom, roles_file)
    finally:
        relay.close()
        procs.stop("orthanc-plugin")


def run_checks(suite, orthanc, tg, mint, used_tokens, relay, make_dicom, roles_file):
    tokens = {kind: mint(kind) for kind in ("reader", "writer", "deleter", "admin", "ward")}
    used_tokens.extend(tokens.values())

    def call(method, path, kind=None, body=None, headers=None, query=""):
        h = dict(headers or {})
        if kind:
            h["Authorization"] = "Bearer " + tokens[kind]
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        return request(method, orthanc + path + query, data, h)

    # The plugin's first call can race its start: wait until a writer is served.
    up = wait_until(lambda: call("GET", "/system", "writer")[0] == 200, 60, interval=0.5)
    plugins = as_json(call("GET", "/plugins", "writer")[2]) or []
    suite.check("13a. Orthanc 1.12.10 with orthanc-authorization, Debian's DICOMweb 1.7 and Python 4.0, Tollgate as its web service",
                up and {"authorization", "dicom-web", "python"} <= set(plugins), str(plugins))

    # Two studies made by the writer (upload); A labelled ward-a (edit-labels).
    studies = {}
    for name, uid in [("A", "1.2.826.0.1.3680043.10.777.1"), ("B", "1.2.826.0.1.3680043.10.777.2")]:
        status, _, answer = call("POST", "/instances", "writer", make_dicom("PLUGIN-" + name, uid, uid + ".1", uid + ".1.1"),
                                 {"Content-Type": "application/dicom"})
        studies[name] = ((as_json(answer) or {}).get("ParentStudy"), uid)
    labelled = call("PUT", "/studies/%s/labels/ward-a" % studies["A"][0], "writer", b"")[0]
    suite.check("13b. upload and edit-labels: the writer stores two studies and labels one",
                all(s[0] for s in studies.values()) and labelled == 200, "%s %s" % (studies, labelled))
    a, b = studies["A"][0], studies["B"][0]

    view = [call("GET", "/studies/%s" % a, "reader")[0], call("GET", "/dicom-web/studies/%s/series" % studies["A"][1], "reader")[0],
            call("POST", "/instances", "reader", make_dicom("PLUGIN-X", "1.2.3.999", "1.2.3.999.1", "1.2.3.999.1.1"),
                 {"Content-Type": "application/dicom"})[0],
            call("DELETE", "/studies/%s" % b, "reader")[0]]
    suite.check("13c. view: a study and its DICOMweb series 200; upload 403; delete 403", view == [200, 200, 403, 403], str(view))

    scratch = call("POST", "/tools/create-dicom", "writer", {"Tags": {"PatientName": "SCRATCH", "PatientID": "SCRATCH"}})
    scratch_study = (as_json(scratch[2]) or {}).get("ID")
    scratch_study = (as_json(call("GET", "/instances/%s/study" % scratch_study, "writer")[2]) or {}).get("ID") if scratch_study else None
    deleted = call("DELETE", "/studies/%s" % scratch_study, "deleter")[0] if scratch_study else 0
    suite.check("13d. delete: the deleter deletes a study", deleted == 200, str(deleted))

    jobs = [call("GET", "/jobs", "admin")[0], call("GET", "/jobs", "writer")[0]]
    suite.check("13e. admin-permissions: /jobs 200 for the admin role, 403 for all the others' permissions", jobs == [200, 403], str(jobs))

    found = as_json(call("POST", "/tools/find", "ward", {"Level": "Study", "Query": {}})[2]) or []
    ward = [call("GET", "/studies/%s" % a, "ward")[0], call("GET", "/studies/%s" % b, "ward")[0]]
    suite.check("13f. labels: the ward user's /tools/find lists only ward-a's study; the other study by id 403",
                found == [a] and ward == [200, 403], "%s %s" % (found, ward))

    # (/system is left unchecked by the stone-webviewer standard configuration.)
    anonymous = [call("GET", "/studies")[0], call("GET", "/studies/%s" % a)[0], call("GET", "/statistics")[0]]
    suite.check("13g. anonymous: the anonymous profile (no permission) -> 403", anonymous == [403, 403, 403], str(anonymous))

    everything = as_json(call("GET", "/dicom-web/studies")[2]) or []
    garbage = as_json(call("GET", "/dicom-web/studies", headers={"Authorization": "Bearer garbage.token.here"})[2]) or []
    suite.check("13h. the plugin's known limit, reproduced: GET /dicom-web/studies answers every study to anonymous and garbage tokens "
                "(its hard-coded OHIF exception; DICOMweb 1.7 bypasses label filtering); docs/orthanc.md gives the mitigation",
                isinstance(everything, list) and len(everything) >= 2 and len(garbage) >= 2, "%d %d" % (len(everything), len(garbage)))

    # Share links through the plugin's own routes: created by the writer, opened with ?token=, for their study only.
    status, _, created = call("PUT", "/auth/tokens/viewer-instant-link", "writer", {
        "ID": "e2e-share", "Resources": [{"DicomUid": studies["B"][1], "OrthancId": b, "Level": "study"}], "Type": "viewer-instant-link",
        "ValidityDuration": 600})
    share = (as_json(created) or {}).get("Token")
    tokens["share"] = share
    if share:
        used_tokens.append(share)
    opened = [call("GET", "/studies/%s" % b, query="?token=%s" % share)[0] if share else 0,
              call("GET", "/studies/%s" % a, query="?token=%s" % share)[0] if share else 0,
              call("GET", "/dicom-web/studies/%s/series" % studies["B"][1], headers={"api-key": share or ""})[0]]
    suite.check("13i. a share link made through PUT /auth/tokens/viewer-instant-link opens its study (?token=, api-key) and not another",
                status == 200 and opened == [200, 403, 200], "%s %s" % (status, opened))
    decoded = as_json(call("POST", "/auth/tokens/decode", body={"TokenKey": "token", "TokenValue": share or ""})[2]) or {}
    suite.check("13j. POST /auth/tokens/decode (through the plugin) names the link's type and study",
                decoded.get("TokenType") == "viewer-instant-link" and studies["B"][1] in (decoded.get("ResourcesDicomIds") or []), str(decoded))

    profile = as_json(call("GET", "/auth/user/profile", "writer")[2]) or {}
    suite.check("13k. GET /auth/user/profile: the writer's permissions from Tollgate", "upload" in (profile.get("permissions") or []), str(profile))

    shown = as_json(call("GET", "/auth/settings/roles", "admin")[2]) or {}
    oe2 = {"roles": dict(shown.get("roles", {})), "available-labels": shown.get("available-labels", [])}
    oe2["roles"]["ward.a"] = {"permissions": [], "authorized-labels": []}
    oe2["roles"]["dicom.read"] = {"permissions": ["view", "download", "my-extra-permission"], "authorized-labels": ["*"]}
    saved = call("PUT", "/auth/settings/roles", "admin", oe2)[0]
    with open(roles_file) as stored:
        on_disk = json.loads(stored.read())
    suite.check("13l. OE2's roles page through the plugin: GET /auth/settings/roles, and PUT with an emptied role and an ExtraPermissions name saved",
                "dicom.write" in shown.get("roles", {}) and saved == 200 and on_disk["roles"]["ward.a"]["permissions"] == [], "%s %s" % (saved, shown))
    permissions = as_json(call("GET", "/auth/settings/permissions", "admin")[2]) or []
    suite.check("13m. GET /auth/settings/permissions (answered by the plugin itself)", "admin-permissions" in permissions, str(permissions)[:200])

    # What the plugin sent: chunked, Basic credentials, and exactly the shapes the contract suite replays.
    time.sleep(0.5)
    with relay.lock:
        calls = list(relay.calls)
    suite.check("13n. every web-service call is chunked with Basic credentials and no Content-Length (%d calls)" % len(calls),
                calls and all(c["chunked"] and c["basic"] and not c["content_length"] for c in calls if c["method"] in ("POST", "PUT")),
                str([(c["method"], c["path"], c["chunked"]) for c in calls][:5]))
    ids = {}
    for name, (orthanc_id, uid) in studies.items():
        ids[orthanc_id] = "<orthanc-id:%s>" % name
        ids[uid] = "<dicom-uid:%s>" % name
    recorded = [redact(c, tokens, ids) for c in calls]
    routes = sorted({(r["method"], shape(r)[1]) for r in recorded})
    with open(FIXTURE) as fixture:
        known = {shape(e) for e in json.load(fixture)["requests"]}
    unknown = sorted({shape(r) for r in recorded} - known, key=str)
    suite.check("13o. every body shape the plugin sent is a fixture the contract suite replays; routes: %s" % routes, not unknown, str(unknown))
    if os.environ.get("TOLLGATE_RECORD_PLUGIN_FIXTURE"):
        with open(os.environ["TOLLGATE_RECORD_PLUGIN_FIXTURE"], "w") as out:
            json.dump(recorded, out, indent=1)
    validate_user = [r for r in recorded if r["path"] == "/tokens/validate" and (r["body"] or {}).get("token-value", "").startswith("Bearer <token:")]
    with open(os.path.join(os.path.dirname(roles_file), "tollgate-plugin.audit.jsonl")) as trail:
        audit = [json.loads(line) for line in trail if line.strip()]
    actions = {record["action"] for record in audit}
    links = [record["what"].get("share_link", {}) for record in audit if record["action"] == "orthanc.share_link.create"]
    profiles_recorded = sum(1 for record in audit if record["action"] == "orthanc.user.get_profile")
    profile_calls = sum(1 for c in calls if c["path"] == "/user/get-profile")
    suite.check("13q. the audit trail recorded the plugin's questions and acts: share link (type, study), roles change, validate; "
                "get-profile once per cache miss (%d records for %d calls)" % (profiles_recorded, profile_calls),
                {"orthanc.share_link.create", "orthanc.roles.update", "orthanc.tokens.validate", "orthanc.user.get_profile"} <= actions
                and links and links[0].get("type") == "viewer-instant-link" and studies["B"][1] in links[0].get("studies", [])
                and 0 < profiles_recorded < profile_calls, "%s %s" % (sorted(actions), links[:1]))
    suite.check("13p. the plugin asks /tokens/validate for a user token the profile does not grant (the view user's delete); Tollgate refuses it",
                bool(validate_user), str(len(validate_user)))

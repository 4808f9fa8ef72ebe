"""DPoP (RFC 9449) end to end (issue 34): Glewlwyd issues a DPoP-bound token (`cnf.jkt`) for a
client_credentials request carrying a proof; the shipped nginx example asks Tollgate, which lets the
token through only with a fresh proof naming the request nginx was asked for. The same token as a
bearer token, a replayed proof and a proof for another URL are refused; Glewlwyd's own checks
(`oauth-dpop-allowed`) and Tollgate's are independent implementations of the same RFC."""

import base64
import hashlib
import http.client
import json
import time
import urllib.parse
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from loopback import as_json, request

# Glewlwyd's plugin settings that allow DPoP (its iat window in seconds).
GLEWLWYD_DPOP = {"oauth-dpop-allowed": True, "oauth-dpop-iat-duration": 60}
# Under `inbound:` of the main Tollgate: proofs to /auth must carry Tollgate's nonce, which the
# nginx example hands back to the client (and to Tollgate's own proxy, 34d).
INBOUND_NONCES = "  dpop: {require_nonce: true, nonce_lifetime_seconds: 60}\n"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DPoPClient:
    """A P-256 key and the proofs it signs (ES256, raw r||s as JWS wants it)."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        numbers = self.key.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}
        canonical = json.dumps({k: self.jwk[k] for k in ["crv", "kty", "x", "y"]}, separators=(",", ":"))
        self.thumbprint = b64(hashlib.sha256(canonical.encode()).digest())

    def proof(self, method, url, token=None, nonce=None):
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}
        claims = {"jti": str(uuid.uuid4()), "htm": method, "htu": url, "iat": int(time.time())}
        if token:
            claims["ath"] = b64(hashlib.sha256(token.encode()).digest())
        if nonce:
            claims["nonce"] = nonce
        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return signing_input + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def bound_token(glewlwyd, client, client_id, secret, scope):
    """(status, answer) of a client_credentials request with a DPoP proof for Glewlwyd's token endpoint."""
    endpoint = glewlwyd + "/api/oidc/token"
    auth = base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()
    status, _, body = request("POST", endpoint, urllib.parse.urlencode({"grant_type": "client_credentials", "scope": scope}).encode(),
                              {"Authorization": "Basic " + auth, "Content-Type": "application/x-www-form-urlencoded",
                               "DPoP": client.proof("POST", endpoint)})
    return status, as_json(body) or {}


def get(port, path, headers):
    """(status, every WWW-Authenticate value, every DPoP-Nonce value) over plain HTTP."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.msg.get_all("WWW-Authenticate") or [], response.msg.get_all("DPoP-Nonce") or []
    except OSError:
        return 0, [], []
    finally:
        connection.close()


def check_dpop_through_nginx(suite, nginx_port, glewlwyd, client_id, secret, scope, used_tokens):
    client = DPoPClient()
    status, answer = bound_token(glewlwyd, client, client_id, secret, scope)
    token = answer.get("access_token", "")
    used_tokens.append(token)
    claims = {}
    if token.count(".") == 2:
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))
    suite.check("34a. Glewlwyd issues a DPoP-bound token (token_type %s, cnf.jkt is the client key's thumbprint)" % answer.get("token_type"),
                status == 200 and (claims.get("cnf") or {}).get("jkt") == client.thumbprint,
                "status %s answer keys %s cnf %s" % (status, sorted(answer), claims.get("cnf")))
    path = "/dicom-web/studies?PatientID=E2E-1"
    url = "http://127.0.0.1:%d/dicom-web/studies" % nginx_port
    without_nonce = get(nginx_port, path, {"Authorization": "DPoP " + token, "DPoP": client.proof("GET", url, token)})
    nonce = without_nonce[2][0] if len(without_nonce[2]) == 1 else None
    suite.check("34e. a proof without Tollgate's nonce -> 401 DPoP use_dpop_nonce, and nginx hands the client the DPoP-Nonce to use",
                without_nonce[0] == 401 and any('DPoP error="use_dpop_nonce"' in c for c in without_nonce[1]) and nonce is not None,
                str(without_nonce))
    proof = client.proof("GET", url, token, nonce)
    passed = get(nginx_port, path, {"Authorization": "DPoP " + token, "DPoP": proof})
    replayed = get(nginx_port, path, {"Authorization": "DPoP " + token, "DPoP": proof})
    as_bearer = get(nginx_port, path, {"Authorization": "Bearer " + token})
    elsewhere = get(nginx_port, path, {"Authorization": "DPoP " + token,
                                       "DPoP": client.proof("GET", url.replace("studies", "series"), token, nonce)})
    suite.check("34b. nginx example + Tollgate: the DPoP-bound token with a fresh proof carrying the nonce -> QIDO 200 (the nonce comes back)",
                passed[0] == 200 and passed[2] == [nonce], str(passed))
    suite.check("34c. the same token as a Bearer token -> 401 DPoP invalid_token; a replayed proof and one for another URL -> 401 invalid_dpop_proof",
                as_bearer[0] == 401 and any('DPoP error="invalid_token"' in c for c in as_bearer[1])
                and replayed[0] == 401 and any('error="invalid_dpop_proof"' in c for c in replayed[1])
                and elsewhere[0] == 401 and any('error="invalid_dpop_proof"' in c for c in elsewhere[1]),
                "bearer %s replayed %s elsewhere %s" % (as_bearer, replayed, elsewhere))


def outbound_server(name, glewlwyd, nginx_port, client_id, secret, scope):
    """An `outbound.servers` entry (YAML, 4-space indented) whose tokens are DPoP-bound: Tollgate
    fetches them from Glewlwyd with a proof, and its proxy sends each request with a fresh one to
    the nginx example, where /auth checks it."""
    return """    %s:
      url: http://127.0.0.1:%d/dicom-web/
      token_endpoint: %s/api/oidc/token
      client_id: %s
      client_secret: "%s"
      scope: %s
      dpop: true
      required_at_start: false
""" % (name, nginx_port, glewlwyd, client_id, secret, scope)


def check_outbound_dpop(suite, tollgate, name, admin_headers):
    status, _, body = request("GET", tollgate + "/proxy/%s/studies" % name, headers=admin_headers)
    handout, _, refusal = request("GET", tollgate + "/token/%s" % name, headers=admin_headers)
    suite.check("34d. Tollgate's proxy fetches a DPoP-bound token from Glewlwyd and sends it with a fresh proof through nginx + /auth "
                "(answering its use_dpop_nonce) -> QIDO 200; the bound token is never handed out (/token 409)",
                status == 200 and handout == 409 and b"DPOP_BOUND" in refusal, "proxy %s %s token %s %s" % (status, body[:200], handout, refusal[:200]))

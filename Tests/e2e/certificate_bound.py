"""Certificate-bound tokens (RFC 8705) end to end (issue 34): Glewlwyd authenticates a client by its
TLS certificate (tls_client_auth, the certificate handed over by a front end in a header, as behind
a TLS-terminating proxy) and binds the token to it (cnf.x5t#S256). The shipped nginx example, with
TLS on and client certificates requested, hands the client's certificate to Tollgate, which lets the
token through only when it came over mTLS with that very certificate."""

import base64
import datetime
import hashlib
import http.client
import json
import os
import ssl
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from loopback import as_json, request

CLIENT_ID = "caller-mtls"
DNS_NAME = "e2e-mtls-client.example"
# Glewlwyd's plugin settings: the client certificate comes from this header (its TLS front's job).
GLEWLWYD_HEADER_CERTIFICATE = {"client-cert-source": "header", "client-cert-header-name": "X-Client-Cert"}
# Under `forward_auth:` of the main Tollgate: where the nginx example puts the client's certificate.
FORWARDED_CERTIFICATE = "  client_certificate: {header: X-SSL-Client-Cert, format: pem}\n"
# The nginx example's one change for this check: client certificates requested (its commented line).
REQUEST_CLIENT_CERTIFICATES = ("# ssl_verify_client optional_no_ca;", "ssl_verify_client optional_no_ca;")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Certificate:
    """A self-signed client certificate (RFC 8705 §2.2 allows them: the token pins the certificate)."""

    def __init__(self, directory, name, dns_name):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False).sign(key, hashes.SHA256()))
        self.pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        self.thumbprint = b64(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())
        self.cert_file = os.path.join(directory, name + ".crt")
        self.key_file = os.path.join(directory, name + ".key")
        with open(self.cert_file, "w") as out:
            out.write(self.pem)
        with open(self.key_file, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def bound_token(glewlwyd, certificate, scope):
    """(status, answer) of a client_credentials request authenticated by `certificate` (tls_client_auth)."""
    one_line = " ".join(certificate.pem.strip().splitlines())
    status, _, body = request("POST", glewlwyd + "/api/oidc/token",
                              urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": CLIENT_ID, "scope": scope}).encode(),
                              {"Content-Type": "application/x-www-form-urlencoded", "X-Client-Cert": one_line})
    return status, as_json(body) or {}


def get_tls(port, path, token, certificate=None, extra=None):
    """The status of a GET over TLS to nginx, presenting `certificate` when given."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE   # nginx serves Debian's snakeoil certificate
    if certificate:
        context.load_cert_chain(certificate.cert_file, certificate.key_file)
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=15, context=context)
    try:
        connection.request("GET", path, headers={"Authorization": "Bearer " + token, **(extra or {})})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError as error:
        return str(error)
    finally:
        connection.close()


def check(suite, work, glewlwyd, nginx_tls_port, used_tokens):
    directory = os.path.join(work, "mtls-client")
    os.makedirs(directory, exist_ok=True)
    mine = Certificate(directory, "mine", DNS_NAME)
    other = Certificate(directory, "other", DNS_NAME)   # the same name, another key: only the token's own certificate binds
    status, answer = bound_token(glewlwyd, mine, "dicom.read")
    token = answer.get("access_token", "")
    used_tokens.append(token)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "===")) if token.count(".") == 2 else {}
    suite.check("34f. Glewlwyd authenticates a client by its certificate (tls_client_auth) and binds the token to it (cnf.x5t#S256)",
                status == 200 and (claims.get("cnf") or {}).get("x5t#S256") == mine.thumbprint,
                "status %s answer keys %s cnf %s" % (status, sorted(answer), claims.get("cnf")))
    path = "/dicom-web/studies?PatientID=E2E-1"
    with_mine = get_tls(nginx_tls_port, path, token, mine)
    with_other = get_tls(nginx_tls_port, path, token, other)
    without = get_tls(nginx_tls_port, path, token)
    # A client without a certificate cannot pass one in nginx's header: the example sets it from TLS only.
    forged = get_tls(nginx_tls_port, path, token, extra={"X-SSL-Client-Cert": urllib.parse.quote(mine.pem)})
    suite.check("34g. nginx example over mTLS + Tollgate: the certificate-bound token with its certificate -> QIDO 200; with another "
                "certificate, none, or a forged X-SSL-Client-Cert -> 401",
                with_mine == 200 and with_other == 401 and without == 401 and forged == 401,
                "mine %s other %s none %s forged %s" % (with_mine, with_other, without, forged))

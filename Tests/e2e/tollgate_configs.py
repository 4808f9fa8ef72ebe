"""The part every end-to-end Tollgate config shares: where it listens, JSON logs, and Glewlwyd as
its one inbound issuer (JWTs by JWKS in auto mode, introspection with the resource-server client)."""


def glewlwyd_inbound(port, glewlwyd, mode="auto", host="127.0.0.1", default_for_opaque=False):
    return """server: {host: "%s", port: %d}
log: {level: info, format: json}
inbound:
  cache: {max_entries: 10000, max_ttl_seconds: 5, negative_ttl_seconds: 2}
  issuers:
    - name: glewlwyd
      issuer: %s/api/oidc
      mode: %s
%s      require_typ: at+jwt
      introspection:
        client_id: tollgate-rs
        client_secret: "${E2E_RS_SECRET}"
        auth_method: client_secret_post
""" % (host, port, glewlwyd, mode, "      default_for_opaque: true\n" if default_for_opaque else "")


def audit_file(path):
    """The audit trail on, every record to `path` as JSON lines (the suite's leak check reads it)."""
    return """audit:
  enabled: true
  sinks: {file: {path: "%s"}}
""" % path

import Foundation
import Testing
@testable import TollgateConfiguration
import TollgateKit

@Suite("outbound, admin and proxy configuration")
struct OutboundConfigTests {
    func problems(_ yaml: String, env: [String: String] = [:]) -> [String] {
        do {
            return try ConfigLoader.parse(yaml: yaml, environment: env).validationErrors(fileExists: { $0 == "/keys/orthanc.pem" }).map(\.description)
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    static let azure = """
        outbound:
          servers:
            azure-dicom:
              url: https://ws-dicom.dicom.azurehealthcareapis.com/v2/
              token_endpoint: https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token
              client_id: ${AZURE_CLIENT_ID}
              client_secret: ${AZURE_CLIENT_SECRET}
              scope: https://dicom.healthcareapis.azure.com/.default
              auth_method: client_secret_post
        admin:
          auth_mode: api_key
          api_keys: ["${TOLLGATE_API_KEY}"]
        """

    @Test func azureExampleLoadsWithItsVariables() throws {
        let env = ["TENANT": "contoso", "AZURE_CLIENT_ID": "app-1", "AZURE_CLIENT_SECRET": "s3cr3t-value", "TOLLGATE_API_KEY": "k-0123456789abcdef"]
        let config = try ConfigLoader.parse(yaml: Self.azure, environment: env).validated()
        let server = try #require(config.outbound.servers["azure-dicom"])
        #expect(server.tokenEndpoint == "https://login.microsoftonline.com/contoso/oauth2/v2.0/token")
        #expect(server.authMethod == .clientSecretPost)
        #expect(server.refreshBufferSeconds == 300)
        #expect(server.defaultExpiresIn == 3600)
        #expect(config.outbound.readyRequiresTokens)
        #expect(config.proxy.forwardRequestHeaders.contains("if-none-match"))
        #expect(!config.redactedSummary.contains("s3cr3t-value"))
        #expect(!config.redactedSummary.contains("k-0123456789abcdef"))
        #expect(config.redactedSummary.contains("outbound.server azure-dicom"))
    }

    @Test func missingVariableNamesItsKeyPath() {
        let found = problems(Self.azure, env: ["TENANT": "t", "AZURE_CLIENT_ID": "a", "TOLLGATE_API_KEY": "k-0123456789abcdef"])
        #expect(found == ["outbound.servers.azure-dicom.client_secret: environment variable AZURE_CLIENT_SECRET is not set"])
    }

    @Test func unquotedSubstitutionInAFlowListGetsAHint() {
        let found = problems("admin: {auth_mode: api_key, api_keys: [${KEY}]}", env: ["KEY": "k-0123456789abcdef"])
        #expect(found.count == 1)
        #expect(found.first?.contains(#"quote substitutions: ["${VAR}"]"#) == true)
    }

    @Test func badOutboundValuesNameTheirKeys() {
        let yaml = """
            dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
            outbound:
              servers:
                weird:
                  url: ftp://x
                  token_endpoint: https://idp/token
                  client_id: c
                  client_secret: s
                  auth_method: client_secret_jwt
            """
        #expect(problems(yaml).contains { $0.hasPrefix("outbound.servers.weird.auth_method:") && $0.contains("private_key_jwt") })

        let more = """
            outbound:
              servers:
                jwt-no-key:
                  url: https://pacs/dicom-web/
                  token_endpoint: https://idp/token
                  client_id: c
                  auth_method: private_key_jwt
                basic-no-secret:
                  url: https://pacs/dicom-web/?x=1
                  token_endpoint: not a url
                  client_id: ""
                  timeout_ms: 0
                  retry: {max_attempts: 0}
                "bad name!":
                  url: https://pacs/
                  token_endpoint: https://idp/token
                  client_id: c
                  client_secret: s
            admin: {auth_mode: api_key, api_keys: [short]}
            proxy: {forward_request_headers: [accept, authorization], max_body_bytes: -1}
            """
        let found = problems(more)
        for expected in [
            "outbound.servers.jwt-no-key.private_key_file: required for auth_method private_key_jwt",
            "outbound.servers.basic-no-secret.client_secret: required for client_secret_basic",
            "outbound.servers.basic-no-secret.url: must not contain a query or fragment",
            "outbound.servers.basic-no-secret.token_endpoint: must be an absolute http(s) URL",
            "outbound.servers.basic-no-secret.client_id: must not be empty",
            "outbound.servers.basic-no-secret.timeout_ms: must be between 1 and 120000",
            "outbound.servers.basic-no-secret.retry.max_attempts: must be between 1 and 10",
            "admin.api_keys[0]: must be at least 16 characters",
            "proxy.forward_request_headers[1]: authorization is never forwarded (hop-by-hop or caller credentials)",
            "proxy.max_body_bytes: must not be negative (0 = unlimited)",
        ] {
            #expect(found.contains(expected), "\(expected)\n\(found)")
        }
        #expect(found.contains { $0.hasPrefix("outbound.servers.bad name!:") })
        #expect(!found.joined().contains(" s\n"))
    }

    @Test func workloadCredentialMethodsTakeTheirOwnKeysOnly() throws {
        let good = """
            outbound:
              servers:
                google:
                  url: https://healthcare.googleapis.com/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb/
                  auth_method: google_service_account
                  service_account_file: /keys/orthanc.pem
                aks:
                  url: https://ws-dicom.dicom.azurehealthcareapis.com/v2/
                  token_endpoint: https://login.microsoftonline.com/t/oauth2/v2.0/token
                  client_id: app-1
                  scope: https://dicom.healthcareapis.azure.com/.default
                  auth_method: client_assertion_file
                  client_assertion_file: /keys/orthanc.pem
            admin: {auth_mode: none}
            """
        #expect(problems(good) == [])
        let config = try ConfigLoader.parse(yaml: good, environment: [:])
        #expect(config.outbound.servers["google"]?.scope == "https://www.googleapis.com/auth/cloud-healthcare")
        #expect(config.outbound.servers["aks"]?.scope == "https://dicom.healthcareapis.azure.com/.default")

        let bad = """
            outbound:
              servers:
                google:
                  url: https://healthcare.googleapis.com/v1/
                  token_endpoint: https://oauth2.googleapis.com/token
                  client_id: someone
                  client_secret: s
                  key_id: k
                  auth_method: google_service_account
                  service_account_file: /missing.json
                google-no-file:
                  url: https://healthcare.googleapis.com/v1/
                  auth_method: google_service_account
                aks-no-file:
                  url: https://pacs/
                  token_endpoint: https://idp/token
                  client_id: c
                  auth_method: client_assertion_file
                basic-with-assertion:
                  url: https://pacs/
                  token_endpoint: https://idp/token
                  client_id: c
                  client_secret: s
                  client_assertion_file: /keys/orthanc.pem
                  service_account_file: /keys/orthanc.pem
            admin: {auth_mode: none}
            """
        let found = problems(bad)
        for expected in [
            "outbound.servers.google.token_endpoint: taken from the service account file's token_uri (remove it)",
            "outbound.servers.google.client_id: taken from the service account file's client_email (remove it)",
            "outbound.servers.google.client_secret: not used with google_service_account (remove it)",
            "outbound.servers.google.key_id: taken from the service account file's private_key_id (remove it)",
            "outbound.servers.google.service_account_file: file is not readable",
            "outbound.servers.google-no-file.service_account_file: required for auth_method google_service_account",
            "outbound.servers.aks-no-file.client_assertion_file: required for auth_method client_assertion_file",
            "outbound.servers.basic-with-assertion.client_assertion_file: only used with auth_method client_assertion_file",
            "outbound.servers.basic-with-assertion.service_account_file: only used with auth_method google_service_account",
        ] {
            #expect(found.contains(expected), "\(expected)\n\(found)")
        }
        #expect(found.count == 9, "\(found)")
        // Without the Google method, token_endpoint and client_id stay required.
        #expect(
            problems("outbound: {servers: {x: {url: 'https://pacs/', auth_method: client_assertion_file, client_assertion_file: /keys/orthanc.pem}}}")
                .contains { $0.hasPrefix("outbound.servers.x.token_endpoint") })
    }

    @Test func theProxysIdleTimeoutIsChecked() {
        for bad in ["0", "3600001", "-5"] {
            #expect(
                problems("proxy: {upstream_idle_timeout_ms: \(bad)}\nadmin: {auth_mode: none}")
                    .contains("proxy.upstream_idle_timeout_ms: must be between 1 and 3600000"), "\(bad)")
        }
        #expect(problems("proxy: {upstream_idle_timeout_ms: soon}\nadmin: {auth_mode: none}").contains { $0.hasPrefix("proxy.upstream_idle_timeout_ms") })
        #expect(!problems("proxy: {upstream_idle_timeout_ms: 5000}\nadmin: {auth_mode: none}").contains { $0.hasPrefix("proxy.") })
    }

    @Test func upstreamBreakerAndTimeoutValuesAreChecked() {
        let yaml = """
            outbound:
              servers:
                vna:
                  url: https://vna/dicom-web/
                  token_endpoint: https://idp/token
                  client_id: c
                  client_secret: s
                  upstream_timeout_ms: 0
                  upstream_circuit_breaker: {failure_threshold: 0, failure_ratio: 1.5, window_seconds: 0, min_requests: 0, open_seconds: 0, failure_statuses: [503, 700]}
            admin: {auth_mode: none}
            """
        let at = "outbound.servers.vna"
        #expect(
            problems(yaml) == [
                "\(at).upstream_circuit_breaker.failure_threshold: must be at least 1",
                "\(at).upstream_circuit_breaker.failure_ratio: must be between 0 (off) and 1",
                "\(at).upstream_circuit_breaker.window_seconds: must be between 1 and 300",
                "\(at).upstream_circuit_breaker.min_requests: must be at least 1",
                "\(at).upstream_circuit_breaker.open_seconds: must be between 1 and 3600",
                "\(at).upstream_circuit_breaker.failure_statuses[1]: must be an HTTP status (100-599)",
                "\(at).upstream_timeout_ms: must be between 1 and 3600000",
            ])
        #expect(
            problems(
                "outbound: {servers: {v: {url: 'https://v/', token_endpoint: 'https://i/t', client_id: c, client_secret: s, upstream_circuit_breaker: {bogus: 1}}}}\nadmin: {auth_mode: none}"
            )
            .contains { $0.hasPrefix("outbound.servers.v.upstream_circuit_breaker.bogus") })
    }

    @Test func serverTLSAndAdminMTLSAreChecked() {
        func problems(_ yaml: String) -> [String] { self.problems(yaml).filter { !$0.hasPrefix("nothing to do") } }
        let yaml = """
            server:
              tls: {cert_file: /missing.crt, key_file: /keys/orthanc.pem, client_auth: required, reload_check_seconds: 0}
            admin: {auth_mode: mtls, client_certificates: ["CN=ops", "ops.hospital.org"]}
            """
        #expect(
            problems(yaml) == [
                "server.tls.cert_file: file is not readable",
                "server.tls.client_ca_file: required with client_auth required",
                "server.tls.reload_check_seconds: must be between 1 and 3600",
                "admin.client_certificates[1]: must be CN=name, DNS:name, URI:uri, email:address or IP:address",
            ])
        #expect(
            problems("admin: {auth_mode: mtls}") == [
                "admin.auth_mode: mtls needs server.tls with client_auth optional or required",
                "admin.client_certificates: list the certificates mtls accepts",
            ])
        #expect(
            problems("admin: {auth_mode: none, client_certificates: [\"CN=x\"]}") == [
                "admin.client_certificates[0]: only used with auth_mode mtls (or console.auth: mtls)"
            ])
        #expect(
            problems("server: {tls: {cert_file: /keys/orthanc.pem, key_file: /keys/orthanc.pem, client_ca_file: /keys/orthanc.pem}}\nadmin: {auth_mode: none}")
                == ["server.tls.client_ca_file: only used with client_auth optional or required"])
    }

    @Test func staticUpstreamHeadersAreValidated() {
        let yaml = """
            outbound:
              servers:
                vna:
                  url: https://vna/dicom-web/
                  token_endpoint: https://idp/token
                  client_id: c
                  client_secret: s
                  headers:
                    Rp-Vna-Site-Id: site-42
                    Accept: application/dicom+json
                    Connection: close
                    authorization: Bearer fixed
                    Host: elsewhere
                    "Bad Name": x
                    X-Split: "a\\r\\nInjected: 1"
                    X-Empty: ""
                    accept: text/html
            admin: {auth_mode: none}
            """
        let found = problems(yaml)
        for expected in [
            "outbound.servers.vna.headers.Connection: Connection cannot be set here (hop-by-hop, the injected token, or set by the proxy)",
            "outbound.servers.vna.headers.authorization: authorization cannot be set here (hop-by-hop, the injected token, or set by the proxy)",
            "outbound.servers.vna.headers.Host: Host cannot be set here (hop-by-hop, the injected token, or set by the proxy)",
            "outbound.servers.vna.headers.Bad Name: not a valid header name",
            "outbound.servers.vna.headers.X-Split: must be a non-empty value without control characters or surrounding spaces",
            "outbound.servers.vna.headers.X-Empty: must be a non-empty value without control characters or surrounding spaces",
        ] {
            #expect(found.contains(expected), "\(expected)\n\(found)")
        }
        #expect(found.contains { $0.contains("named twice") })
        #expect(found.count == 7, "\(found)")
        #expect(!found.joined().contains("Bearer fixed"))
    }

    @Test func privateKeyJWTWithAReadableKeyIsValid() {
        let yaml = """
            outbound:
              servers:
                okta:
                  url: https://pacs/dicom-web/
                  token_endpoint: https://hospital.okta.com/oauth2/default/v1/token
                  client_id: orthanc
                  auth_method: private_key_jwt
                  private_key_file: /keys/orthanc.pem
                  key_id: k1
            admin: {auth_mode: none}
            """
        #expect(problems(yaml) == [])
    }

    @Test func outboundOnlyDeploymentIsLegalButApiKeyModeNeedsKeys() {
        let yaml = """
            outbound:
              servers:
                pacs: {url: "https://pacs/dicom-web/", token_endpoint: "https://idp/token", client_id: c, client_secret: s}
            """
        #expect(problems(yaml) == ["admin.api_keys: list at least one key for auth_mode api_key (or choose bearer / none)"])
        #expect(problems(yaml + "\nadmin: {auth_mode: bearer}") == ["admin.auth_mode: bearer needs at least one inbound issuer to validate callers"])
        #expect(problems(yaml + "\nadmin: {auth_mode: none}") == [])
    }

    @Test func seed000OrthancJSONMigrates() throws {
        let json = """
            {
              // Orthanc allows comments in its configuration
              "Name": "PACS /* not a comment */",
              "DicomWebOAuth": {
                "Servers": {
                  "keycloak-dicom": {
                    "Url": "https://dicom.example.com/dicom-web/",
                    "TokenEndpoint": "https://keycloak.example.com/realms/healthcare/protocol/openid-connect/token",
                    "ClientId": "${KEYCLOAK_CLIENT_ID}",
                    "ClientSecret": "${KEYCLOAK_CLIENT_SECRET}",
                    "Scope": "dicomweb",
                    "TokenRefreshBufferSeconds": 120 /* two minutes */
                  }
                }
              }
            }
            """
        let servers = try OrthancMigration.servers(json: json, environment: ["KEYCLOAK_CLIENT_ID": "orthanc", "KEYCLOAK_CLIENT_SECRET": "kc-secret"])
        let server = try #require(servers["keycloak-dicom"])
        #expect(server.clientID == "orthanc")
        #expect(server.clientSecret?.value == "kc-secret")
        #expect(server.scope == "dicomweb")
        #expect(server.refreshBufferSeconds == 120)
        #expect(server.authMethod == .clientSecretPost)
        var config = TollgateConfig()
        config.admin = AdminConfig(authMode: .none)
        try OrthancMigration.merge(servers, into: &config)
        #expect(config.validationErrors().isEmpty)
        #expect(throws: ConfigErrors.self) { try OrthancMigration.merge(servers, into: &config) }

        do {
            _ = try OrthancMigration.servers(json: json, environment: ["KEYCLOAK_CLIENT_ID": "orthanc"])
            Issue.record("a missing variable must fail")
        } catch let errors as ConfigErrors {
            #expect(errors.description.contains("DicomWebOAuth.Servers.keycloak-dicom.ClientSecret"))
            #expect(errors.description.contains("KEYCLOAK_CLIENT_SECRET"))
        }
        #expect(throws: ConfigErrors.self) { try OrthancMigration.servers(json: #"{"DicomWebOAuth":{"Servers":{"x":{"Url":1}}}}"#, environment: [:]) }
        #expect(throws: ConfigErrors.self) { try OrthancMigration.servers(json: "not json", environment: [:]) }
    }

    @Test func orthancSectionIsValidated() {
        let yaml = """
            dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
            admin: {auth_mode: none}
            outbound:
              servers:
                pacs: {url: "https://pacs/dicom-web/", token_endpoint: "https://idp/token", client_id: c, client_secret: s}
            orthanc:
              webservice_username: orthanc
              permissions:
                role_claims: [realm_access.roles, "a..b"]
                roles:
                  reader: {permissions: [view, get, "a b"], authorized-labels: ["*"]}
                  nolabels: {permissions: []}
                table: [[get, "^/x$", "view"], [patch, "([", "fly"], [get], [get, SINGLE_RESOURCE_PATTERNS, "a\\"b"]]
              share_tokens: {key_file: /nonexistent/key, max_validity_seconds: 10}
              dicom_web_root: dicom-web
              dicomweb_servers:
                b: {outbound_server: nope, extra: {HttpHeaders: {}, HasDelete: true, Timeout: -1, Ratio: 1.5, Nested: {a: 1}}}
              check_interval_seconds: 0
            """
        let found = problems(yaml)
        for expected in [
            "orthanc.webservice_username: set webservice_username and webservice_password together",
            "orthanc.permissions.role_claims[1]: a claim name, or names joined by '.' (realm_access.roles)",
            #"orthanc.permissions.roles.reader.permissions: "a b" is not a permission name (1-64 printable characters, no space, | or ")"#,
            "orthanc.permissions.table[1][0]: method must be get, post, put or delete",
            "orthanc.permissions.table[1][1]: not a valid regular expression",
            #"orthanc.permissions.table[3][2]: "a"b" is not a permission name (1-64 printable characters, no space, | or ")"#,
            #"orthanc.permissions.table[2]: each rule is [method, regex, "permission|permission"]"#,
            "orthanc.share_tokens.key_file: file is not readable",
            "orthanc.share_tokens.max_validity_seconds: must be between 60 and 3162240000 (100 years)",
            "orthanc.dicom_web_root: must be a path like /dicom-web/ (leading and trailing '/')",
            "orthanc.dicomweb_servers.b.extra.Timeout: must be a non-negative integer (seconds)",
            "orthanc.dicomweb_servers.b.extra.Ratio: Orthanc accepts only a string, boolean or integer here",
            "orthanc.dicomweb_servers.b.extra.Nested: Orthanc accepts only a string, boolean or integer here",
            "orthanc.url: required when orthanc.dicomweb_servers is set",
            "orthanc.dicomweb_servers.b.outbound_server: no outbound server named nope",
            "orthanc.dicomweb_servers.b.extra.HttpHeaders: set by Tollgate; remove it",
            "orthanc.check_interval_seconds: must be between 1 and 3600",
        ] {
            #expect(found.contains(expected), "\(expected)\n\(found)")
        }
        #expect(!found.contains { $0.hasPrefix("orthanc.dicomweb_servers.b.extra.HasDelete") })
        // An empty role and names the plugin's ExtraPermissions may define load (OE2 saves both); a
        // name no table uses is a warning, not an error.
        #expect(!found.contains { $0.hasPrefix("orthanc.permissions.roles.nolabels") || $0.contains("\"get\"") || $0.contains("\"fly\"") }, "\(found)")
        #expect(!found.contains { $0.hasPrefix("orthanc.permissions.table[3][1]") }, "SINGLE_RESOURCE_PATTERNS is the plugin's alias")
        let warnings = try? ConfigLoader.parse(
            yaml: """
                dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
                orthanc:
                  webservice_username: orthanc
                  webservice_password: secret
                  permissions:
                    roles: {reader: {permissions: [view, get, worklists], authorized-labels: ["*"]}, custom: {permissions: [my-plugin]}}
                    anonymous: {permissions: [fly]}
                """, environment: [:]
        ).warnings.map(\.description)
        #expect(
            warnings?.contains { $0.hasPrefix("orthanc.permissions.roles.reader.permissions: \"get\" is not a permission of the plugin's default table") }
                == true, "\(warnings ?? [])")
        #expect(warnings?.contains { $0.hasPrefix("orthanc.permissions.anonymous.permissions: \"fly\"") } == true)
        #expect(warnings?.contains { $0.hasPrefix("orthanc.share_tokens.key_file: not set") } == true, "routes on, no key: replicas disagree")
        #expect(warnings?.contains { $0.contains("\"worklists\"") } == false)
        #expect(
            problems(
                "orthanc: {permissions: {claim: badges, roles: {a: {permissions: [view], authorized-labels: [x]}}}}\ndev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}"
            )
            .contains { $0.hasPrefix("orthanc.permissions.claim:") }, "the 0.5 keys are gone, by name")
        #expect(
            problems(
                "orthanc: {permissions: {roles: {a: {permissions: [view], authorized-labels: [x]}}, roles_file: /x}}\ndev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}"
            )
            .contains("orthanc.permissions.roles_file: use either roles or roles_file"))
    }

    @Test func secretsFromMountedFiles() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-secret-\(UUID().uuidString)")
        try "from-a-file-0123456789\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let yaml = """
            admin: {auth_mode: api_key, api_keys: ["${file:\(file.path)}"]}
            dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
            server: {shutdown_grace_seconds: 5}
            """
        let config = try ConfigLoader.parse(yaml: yaml, environment: [:]).validated()
        #expect(config.admin.apiKeys.first?.value == "from-a-file-0123456789")
        #expect(config.server.shutdownTimeoutSeconds == 5)
        let missing = problems("admin: {api_keys: [\"${file:/nonexistent/secret}\"]}")
        #expect(missing.first?.hasPrefix("admin.api_keys[0]: cannot read the file named in ${file:") == true)
        #expect(
            problems("server: {shutdown_grace_seconds: -1}\ndev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}")
                == ["server.shutdown_timeout_seconds: must be between 0 and 3600"], "the former name is the same key")
    }
}

@Suite("forward_auth configuration")
struct ForwardAuthConfigTests {
    @Test func statusesAndInjectionAreValidated() {
        let yaml = """
            dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
            outbound:
              servers:
                pacs: {url: "https://pacs/dicom-web/", token_endpoint: "https://idp/token", client_id: c, client_secret: s}
            forward_auth:
              status_on_unavailable: 418
              status_on_malformed: 500
              outbound_tokens: {auth: bearer, header: Content-Length, required_scopes: {pacs: [], ghost: [x]}}
            """
        let found = (try? ConfigLoader.parse(yaml: yaml, environment: [:]))?.validationErrors().map(\.description) ?? ["did not parse"]
        for expected in [
            "forward_auth.status_on_unavailable: use 401 or 403 (nginx passes only 2xx/401/403) or 500, 502, 503, 504",
            "forward_auth.status_on_malformed: use 400, 401 or 403",
            "forward_auth.outbound_tokens.header: must be a valid header name that does not frame or describe the answer (not Content-Length, Content-Type, Connection, Transfer-Encoding, Cache-Control, Set-Cookie, WWW-Authenticate)",
            "forward_auth.outbound_tokens.required_scopes.pacs: list at least one scope (no spaces)",
            "forward_auth.outbound_tokens.required_scopes.ghost: no outbound server named ghost",
        ] {
            #expect(found.contains(expected), "\(expected)\n\(found)")
        }
    }

    @Test func forwardAuthRulesAreValidatedEachAtItsPath() throws {
        let yaml = """
            dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
            inbound:
              issuers: [{name: dev, embedded: true, introspection: {client_id: a, client_secret: b}}]
            forward_auth:
              default: deny
              trusted_proxies: ["10.0.0.0/8", "::1/128", "10.0.0.0/33", "nonsense"]
              groups_claim: "a..b"
              rules:
                - {name: r, path: "^/ok/", methods: [GET], scopes: [read], issuers: [dev], roles_claim: realm_access.roles, roles: [x]}
                - {name: r, path: "^/(unclosed", methods: ["G T"], host: "bad host:80"}
                - {path: "^/open/", allow_anonymous: true, scopes: [read]}
                - {path: "^/x/", issuers: [ghost], any_scopes: ["a b"], roles_claim: "a..b", claims_to_headers: {subb: X-User, realm_access.roles: "Bad Header"}}
                - {methods: [GET]}
            """
        let found = (try? ConfigLoader.parse(yaml: yaml, environment: [:]))?.validationErrors().map(\.description) ?? ["did not parse"]
        for expected in [
            "forward_auth.trusted_proxies[2]: not an IP address or CIDR network (10.0.0.0/8, ::1/128)",
            "forward_auth.trusted_proxies[3]: not an IP address or CIDR network (10.0.0.0/8, ::1/128)",
            "forward_auth.rules[1].name: duplicate rule name",
            "forward_auth.rules[1].path: not a valid regular expression",
            "forward_auth.rules[1].methods[0]: not an HTTP method",
            "forward_auth.rules[1].host: an exact host name or *.suffix, without port",
            "forward_auth.rules[2].allow_anonymous: an anonymous rule cannot also require scopes, audiences, issuers or roles",
            "forward_auth.rules[3].issuers[0]: no inbound issuer named ghost",
            "forward_auth.rules[3].any_scopes: entries must be non-empty and contain no spaces",
            "forward_auth.rules[3].roles_claim: a claim name, or names joined by '.' (realm_access.roles)",
            "forward_auth.rules[3].claims_to_headers.realm_access.roles: not a valid header name",
            "forward_auth.groups_claim: a claim name, or names joined by '.' (realm_access.roles)",
        ] {
            #expect(found.contains(expected), "\(expected)\n\(found)")
        }
        #expect(found.contains { $0.hasPrefix("forward_auth.rules[3].claims_to_headers.subb: unknown claim") })
        #expect(found.contains { $0.hasPrefix("forward_auth.rules[4].path") }, "\(found)")
        #expect(!found.contains { $0.hasPrefix("forward_auth.rules[0]") }, "\(found)")
    }

    @Test func forwardAuthProxyAndDefaultFollowTheRules() throws {
        func load(_ forwardAuth: String, host: String = "127.0.0.1") throws -> TollgateConfig {
            try ConfigLoader.parse(
                yaml: """
                    server: {host: "\(host)"}
                    inbound:
                      issuers: [{name: idp, issuer: "https://idp.example", introspection: {client_id: a, client_secret: b}}]
                    forward_auth:
                    \(forwardAuth)
                    """, environment: [:])
        }
        let rules = "  rules: [{path: \"^/dicom-web/\", scopes: [read]}]"
        #expect(try load("  proxy: auto").forwardAuth.effectiveDefault == .authenticated, "no rules: any accepted token, as before")
        #expect(try load(rules).forwardAuth.effectiveDefault == .deny, "rules and no default written: deny")
        #expect(try load(rules + "\n  default: authenticated").forwardAuth.effectiveDefault == .authenticated)
        for proxy in ForwardAuthProxy.allCases {
            #expect(try load("  proxy: \(proxy.rawValue)").forwardAuth.proxy == proxy)
        }
        #expect(ForwardAuthProxy.allCases.map(\.rawValue) == ["auto", "nginx", "ingress-nginx", "traefik", "envoy", "caddy", "oauth2-proxy"])
        #expect(throws: (any Error).self) { try load("  proxy: haproxy") }
        #expect(throws: (any Error).self) { try load("  default: allow") }

        // A listener others can reach, rules, and only loopback trusted: warned (a pod-address proxy would be refused).
        let exposed = try load(rules, host: "0.0.0.0")
        #expect(exposed.warnings.map(\.path) == ["forward_auth.trusted_proxies"])
        #expect(exposed.warnings.first?.message.contains("untrusted_proxy") == true)
        #expect(try load(rules).warnings.isEmpty, "loopback listener")
        #expect(try load(rules + "\n  trusted_proxies: [\"10.42.0.0/16\"]", host: "0.0.0.0").warnings.isEmpty)
        #expect(try load(rules + "\n  trusted_proxies: [\"127.0.0.1\", \"::1\"]", host: "0.0.0.0").warnings.count == 1)
        #expect(try load(rules + "\n  proxy: envoy", host: "0.0.0.0").warnings.isEmpty, "Envoy's path prefix needs no trust")
        #expect(try load("  proxy: auto", host: "0.0.0.0").warnings.isEmpty, "no rules, nothing to walk around")
    }
}

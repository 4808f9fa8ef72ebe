import Foundation
import Testing
import TollgateKit
import TollgateRegistry
@testable import TollgateServer

/// The connection API's bodies at the HTTP edge, without a server: what each field reads as, and
/// the refusal (naming the field, never echoing its value) for everything else.
@Suite("connection API bodies")
struct ConnectionRequestsTests {
    static func connection(_ json: String) throws(RegistryError) -> ConnectionInput {
        try ConnectionRequests.decode(ConnectionRequest.self, from: Data(json.utf8)).input
    }

    static func refusal(_ read: () throws(RegistryError) -> Void) -> String? {
        do {
            try read()
            return nil
        } catch {
            #expect(error.code == .invalidRequest)
            return error.message
        }
    }

    @Test func everyFieldLandsInItsMemberAndNullReadsAsAbsent() throws {
        let input = try Self.connection(
            #"{"connection_name":"pacs","oauth_flow_type":"client_credentials","client_id":"svc","client_secret":"s","token_url":"https://idp/t","scopes":"a,b","name":"PACS","description":null,"private_key":null,"orthanc_push":{"name":"pacs","extra":{"Timeout":30}}}"#
        )
        #expect(input.connectionName == "pacs")
        #expect(input.oauthFlowType == "client_credentials")
        #expect(input.clientSecret == "s")
        #expect(input.scopes == "a,b")
        #expect(input.displayName == "PACS")
        #expect(input.description == nil)
        #expect(input.privateKey == nil)
        #expect(input.orthancPush == .some(OrthancPushSettings(name: "pacs", extra: ["Timeout": .number(30)])))
        #expect(try Self.connection(#"{"orthanc_push":null}"#).orthancPush == .some(nil))
        #expect(try Self.connection(#"{}"#).orthancPush == nil)
        #expect(try Self.connection(#"{"private_key":"-----BEGIN KEY-----\nabc\n-----END KEY-----"}"#).privateKey?.contains("\n") == true)
    }

    @Test func wireFaultsAreRefusedWithTheFieldsNameAndNeverItsValue() {
        let cases: [(String, String)] = [
            (#"{"client_id":"a","client_id":"b"}"#, "the body must be a JSON object"),
            (#"[1]"#, "the body must be a JSON object"),
            (#"{"client_id":"svc""#, "the body must be a JSON object"),
            (#"{"sekrit-XYZ":"1","other":2}"#, "unknown field(s): other, sekrit-XYZ"),
            (#"{"client_id":42}"#, "client_id must be a string"),
            (#"{"description":"line\nbreak-SECRET"}"#, "description must be at most 2048 bytes without control characters"),
            (#"{"client_secret":"\#(String(repeating: "x", count: 8193))"}"#, "client_secret must be at most 8192 bytes"),
            (#"{"orthanc_push":"pacs"}"#, "orthanc_push must be"),
            (#"{"orthanc_push":{"name":"a b"}}"#, "orthanc_push must be"),
            (#"{"orthanc_push":{"name":"p","extra":{"Url":"http://x"}}}"#, "orthanc_push.extra.Url is set by Tollgate or is a password"),
            (#"{"orthanc_push":{"name":"p","extra":{"Timeout":1.5}}}"#, "orthanc_push.extra.Timeout: must be a non-negative integer"),
        ]
        for (json, expected) in cases {
            let message = Self.refusal { () throws(RegistryError) in _ = try Self.connection(json) }
            #expect(message?.contains(expected) == true, "\(json): \(message ?? "accepted")")
            #expect(message?.contains("SECRET") != true)
        }
    }

    @Test func theOtherBodiesReadTheirOwnFieldsOnly() throws {
        let token = try ConnectionRequests.decode(RefreshTokenRequest.self, from: Data(#"{"refresh_token":"rt-1"}"#.utf8))
        #expect(token.refreshToken == "rt-1")
        for json in [#"{}"#, #"{"refresh_token":null}"#, #"{"refresh_token":""}"#] {
            #expect(
                Self.refusal { () throws(RegistryError) in _ = try ConnectionRequests.decode(RefreshTokenRequest.self, from: Data(json.utf8)) }
                    == "refresh_token is required")
        }
        #expect(
            Self.refusal { () throws(RegistryError) in
                _ = try ConnectionRequests.decode(RefreshTokenRequest.self, from: Data(#"{"refresh_token":"x","client_id":"y"}"#.utf8))
            } == "unknown field(s): client_id")

        let seeds = try ConnectionRequests.decode(
            DependencyRequest.self, from: Data(#"{"workflow_id":"wf-1","workflow_name":"Nightly","dependent_id":null}"#.utf8))
        #expect(seeds.dependentID == "wf-1")
        #expect(seeds.label == "Nightly")
        #expect(
            Self.refusal { () throws(RegistryError) in
                _ = try ConnectionRequests.decode(DependencyRequest.self, from: Data(#"{"dependent_id":"a","workflow_id":"b"}"#.utf8))
            } == "send one of dependent_id, workflow_id")
        let workflow = try ConnectionRequests.decode(WorkflowDependencyRequest.self, from: Data(#"{"connection_name":"pacs"}"#.utf8))
        #expect(workflow.connectionName == "pacs")
        #expect(workflow.label == nil)
        #expect(
            Self.refusal { () throws(RegistryError) in
                _ = try ConnectionRequests.decode(WorkflowDependencyRequest.self, from: Data(#"{"workflow_name":"x"}"#.utf8))
            }
                == "connection_name is required")
    }
}

/// Records decisions and IdP calls (metrics, logs) without the authenticator knowing how.
package protocol DecisionRecorder: Sendable {
    func record(_ decision: Decision)
    func recordIntrospection(issuer: String, outcome: String, seconds: Double)
    func recordUserinfo(issuer: String, outcome: String, seconds: Double)
}

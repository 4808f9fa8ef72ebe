import TollgateRegistry

extension TollgateMetrics: RegistryObserver {
    public func tokenRequested(grant: String, result: String) {
        counter(.registryTokenRequests, [("grant", grant), ("result", result)]).increment()
    }

    public func tokenRevoked(tokenType: String, result: String) {
        counter(.registryRevocations, [("token_type", tokenType), ("result", result)]).increment()
    }
}

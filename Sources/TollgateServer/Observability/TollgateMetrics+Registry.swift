import TollgateRegistry

extension TollgateMetrics: RegistryObserver {
    package func tokenRequested(grant: String, result: String) {
        counter(.registryTokenRequests, [("grant", grant), ("result", result)]).increment()
    }

    package func tokenRevoked(tokenType: String, result: String) {
        counter(.registryRevocations, [("token_type", tokenType), ("result", result)]).increment()
    }
}

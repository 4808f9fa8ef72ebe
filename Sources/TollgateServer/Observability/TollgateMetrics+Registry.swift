import TollgateRegistry

extension TollgateMetrics: RegistryObserver {
    public func tokenRequested(grant: String, result: String) {
        counter(.registryTokenRequests, [("grant", grant), ("result", result)]).increment()
    }
}

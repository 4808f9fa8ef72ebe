import AsyncHTTPClient

extension HTTPClientRequest {
    func with(header name: String, _ value: String) -> HTTPClientRequest {
        var copy = self
        copy.headers.add(name: name, value: value)
        return copy
    }
}

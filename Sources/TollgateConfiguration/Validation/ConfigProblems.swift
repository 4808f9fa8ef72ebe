/// Collects every validation problem, so that all of them are reported at once.
struct ConfigProblems {
    var errors: [ConfigError] = []

    /// Records `message` for `path` unless `condition` holds.
    mutating func check(_ condition: Bool, _ path: String, _ message: String) {
        if !condition { add(path, message) }
    }

    mutating func add(_ path: String, _ message: String) {
        errors.append(ConfigError(path: path, message: message))
    }
}

import Foundation

/// Capped exponential backoff with jitter ("equal jitter": half fixed, half random), in seconds.
package enum Backoff {
    package static func delay(attempt: Int, baseMS: Int, maxMS: Int, random: Double = Double.random(in: 0...1)) -> Double {
        let capped = cappedMilliseconds(attempt: attempt, baseMS: baseMS, maxMS: maxMS)
        return (capped / 2 + capped / 2 * random) / 1000
    }

    /// The same curve without jitter, for loops that only need to slow down.
    package static func cappedMilliseconds(attempt: Int, baseMS: Int, maxMS: Int) -> Double {
        min(Double(baseMS) * pow(2, Double(min(max(0, attempt - 1), 62))), Double(maxMS))
    }
}

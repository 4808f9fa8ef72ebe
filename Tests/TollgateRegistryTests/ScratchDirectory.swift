import Foundation

/// A directory path of its own under the temporary directory (created by whoever writes to it).
func scratchDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-registry-\(UUID().uuidString)").path
}

import Foundation

/// What tells a changed file apart without reading it: its modification time, size and inode
/// (cert-manager and `kubectl` replace files: a new inode and mtime; an editor changes mtime or size).
package struct FileStamp: Equatable, Sendable {
    let modified: Date?
    let size: Int?
    let inode: Int?

    package init(path: String) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        modified = attributes?[.modificationDate] as? Date
        size = (attributes?[.size] as? NSNumber)?.intValue
        inode = (attributes?[.systemFileNumber] as? NSNumber)?.intValue
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one file crash-safely (`TemporaryFile`'s protocol): the bytes go to
/// `.<name>.tmp-<uuid>` beside `path`, and only `commit` makes them visible under `path`.
/// A crash leaves the old file or the complete new one, never a torn file under `path`.
public final class AtomicFileWriter {
    public let path: String
    private let file: TemporaryFile

    /// `mode`: permission bits of the new file (0o600 for secrets).
    public init(path: String, mode: mode_t = 0o644) throws(FileWriteError) {
        self.path = path
        file = try TemporaryFile(directory: parent(of: path), name: "." + baseName(of: path) + ".tmp-" + UUID().uuidString, mode: mode)
    }

    /// Appends `bytes`; on error the temporary is gone and `path` untouched.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) { try file.write(bytes) }
    public func write(_ data: Data) throws(FileWriteError) { try file.write(data) }
    public func write(_ bytes: [UInt8]) throws(FileWriteError) { try file.write(bytes) }

    /// Makes the file durable and visible under `path`.
    public func commit() throws(FileWriteError) { try file.moveIntoPlace(at: path) }

    /// Drops the temporary; `path` keeps what it had. (Also done by deinit without `commit`.)
    public func abort() { file.discard() }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: Data, to path: String, mode: mode_t = 0o644) throws(FileWriteError) {
        let w = try AtomicFileWriter(path: path, mode: mode)
        try w.write(bytes)
        try w.commit()
    }
}

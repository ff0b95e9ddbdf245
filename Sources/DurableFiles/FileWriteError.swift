#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system call that refused a durable write: which call, on which path, and errno.
///
/// Each module wraps it once into its own error (`TensorIOError.fileSystem`, `StoreError.io`,
/// `TrainingError.checkpoint`); `description` reads as one line on its own.
public struct FileWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was attempted, as a verb phrase: "create a temporary file", "write", "fsync", ...
    public let operation: String
    /// The file or directory the call was made on.
    public let path: String
    public let errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation; self.path = path; self.errno = errno
    }

    /// strerror(3) of `errno`, e.g. "No space left on device".
    public var message: String { String(cString: strerror(errno)) }

    public var description: String { "\(path): cannot \(operation): \(message)" }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one file crash-safely: bytes go to a temporary file in the same directory,
/// which is fsynced and renamed over the destination, then the directory is fsynced.
/// A crash at any point leaves either the old file or the complete new one (plus at
/// worst a stray `.<name>.tmp-*` file), never a torn file under the final name.
public final class AtomicFileWriter {
    public let path: String
    private let tempPath: String
    private var fd: Int32
    private var finished = false

    /// `mode`: permission bits of the new file (0600 for secrets), set with fchmod so the
    /// umask cannot widen or narrow them.
    public init(path: String, mode: mode_t = 0o644) throws(TensorIOError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        tempPath = dir + "/." + url.lastPathComponent + ".tmp-" + UUID().uuidString
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .fileSystem(path: path, operation: "create a temporary file", message: MappedFile.errnoText()) }
        if fchmod(fd, mode) != 0 {
            let message = MappedFile.errnoText(); abort()
            throw .fileSystem(path: path, operation: "set the mode of", message: message)
        }
    }

    deinit { if !finished { abort() } }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TensorIOError) {
        var done = 0
        while done < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                let message = MappedFile.errnoText()
                abort()
                throw .fileSystem(path: path, operation: "write", message: message)
            }
            done += n
        }
    }

    public func write(_ data: Data) throws(TensorIOError) {
        if data.isEmpty { return }
        try withBytes(of: data) { (raw: UnsafeRawBufferPointer) throws(TensorIOError) in try write(raw) }
    }

    public func write(_ bytes: [UInt8]) throws(TensorIOError) {
        try withBytes(of: bytes) { (raw: UnsafeRawBufferPointer) throws(TensorIOError) in try write(raw) }
    }

    /// Makes the file durable and visible under its final name.
    public func commit() throws(TensorIOError) {
        guard !finished else { return }
        if fsync(fd) != 0 {
            let message = MappedFile.errnoText(); abort()
            throw .fileSystem(path: path, operation: "fsync", message: message)
        }
        close(fd); fd = -1
        if rename(tempPath, path) != 0 {
            let message = MappedFile.errnoText(); abort()
            throw .fileSystem(path: path, operation: "rename into place", message: message)
        }
        finished = true
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Drops the temporary file.
    public func abort() {
        guard !finished else { return }
        finished = true
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: Data, to path: String, mode: mode_t = 0o644) throws(TensorIOError) {
        let w = try AtomicFileWriter(path: path, mode: mode)
        try w.write(bytes)
        try w.commit()
    }
}

private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}

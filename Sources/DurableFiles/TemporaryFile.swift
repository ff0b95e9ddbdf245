import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name and made visible only by `moveIntoPlace`: the one
/// crash-safe write protocol of the package.
///
///     write* -> sync (fsync, close) -> rename(2) over the destination -> fsync its directory
///
/// rename(2) is atomic only within one file system, so `directory` must be on the
/// destination's (the destination's own folder, or a registry's `tmp/`). A crash at any
/// step leaves the old destination or the complete new one, plus at worst the temporary.
/// Any error (and `discard`, and deinit before `moveIntoPlace`) removes the temporary.
public final class TemporaryFile {
    /// Where the bytes are until `moveIntoPlace`.
    public let path: String
    private var fd: Int32
    /// Set once the temporary is renamed away or deleted: nothing is left to clean up.
    private var gone = false
    /// Where `moveIntoPlace` put it, so a repeated call is a no-op.
    private var placed: String?

    /// Creates `directory/name` exclusively (an existing file is an error, never reused).
    /// `mode`: permission bits (0o600 for secrets), set with fchmod so the umask cannot change them.
    public init(directory: String, name: String, mode: mode_t = 0o644) throws(FileWriteError) {
        path = directory + "/" + name
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileWriteError(operation: "create a temporary file", path: path, errno: errno) }
        if fchmod(fd, mode) != 0 { throw failure("set the mode of") }
    }

    deinit { discard() }

    /// Appends `bytes` (retrying short writes and EINTR).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        guard fd >= 0 else { throw FileWriteError(operation: "write (already synced)", path: path, errno: EBADF) }
        var done = 0
        while done < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write")
            }
            done += n
        }
    }

    // Foundation's withUnsafeBytes rethrows `any Error`; a Result keeps the typed throw.
    public func write(_ data: Data) throws(FileWriteError) {
        try data.withUnsafeBytes { raw in Result { () throws(FileWriteError) in try write(raw) } }.get()
    }

    public func write(_ bytes: [UInt8]) throws(FileWriteError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(FileWriteError) in try write(raw) } }.get()
    }

    /// fsync and close: the bytes are on disk under `path` (read them back there if they
    /// must be checked). Idempotent; `moveIntoPlace` calls it.
    public func sync() throws(FileWriteError) {
        guard fd >= 0 else { return }
        if fsync(fd) != 0 { throw failure("fsync") }
        close(fd); fd = -1
    }

    /// Syncs, renames over `destination` (replacing any file there) and fsyncs the
    /// destination's directory, so the new name survives a crash too.
    public func moveIntoPlace(at destination: String) throws(FileWriteError) {
        if placed == destination { return }
        try sync()
        if rename(path, destination) != 0 { throw failure("rename \(path) to", path: destination) }
        gone = true; placed = destination
        try syncDirectory(parent(of: destination))
    }

    /// Closes and deletes the temporary; nothing is visible under any destination.
    public func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        if !gone { unlink(path); gone = true }
    }

    /// Discards, then describes the call that failed (errno read before the cleanup).
    private func failure(_ operation: String, path: String? = nil) -> FileWriteError {
        let e = FileWriteError(operation: operation, path: path ?? self.path, errno: errno)
        discard()
        return e
    }
}

/// fsync(2) on a directory: makes the entries created, renamed or removed in it durable.
public func syncDirectory(_ path: String) throws(FileWriteError) {
    let dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard dfd >= 0 else { throw FileWriteError(operation: "open directory", path: path, errno: errno) }
    defer { close(dfd) }
    if fsync(dfd) != 0 { throw FileWriteError(operation: "fsync directory", path: path, errno: errno) }
}

/// The directory part of `path` ("." for a bare name).
func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// The last component of `path`.
func baseName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}

private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}

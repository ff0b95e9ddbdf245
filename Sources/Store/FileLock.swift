#if canImport(Glibc)
import Glibc
#endif

/// An advisory flock(2) on a file: shared for publishers, exclusive for gc and reindex,
/// so gc never sweeps between a publisher's blob check and its catalog commit. Each
/// hold opens its own descriptor (flock belongs to the open file, so threads of one
/// process exclude each other too), and the lock dies with the process (SIGKILL
/// included), so a crash cannot leave it held.
struct FileLock: Sendable {
    let path: String

    func withLock<T>(exclusive: Bool, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(operation: "open lock", path: path, errno: errno) }
        defer { close(fd) }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno != EINTR { throw .io(operation: "lock", path: path, errno: errno) }
        }
        return try body()
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file.
///
/// The mapping lives as long as this object; `data(in:)` hands out `Data` values that wrap
/// the mapped bytes without copying and each hold a strong reference to the mapping, so
/// tensors read from a file stay valid after the reader is gone.
///
/// The mapping is private and writable (MAP_PRIVATE, PROT_READ | PROT_WRITE): `Data`
/// treats no-copy storage it uniquely owns as mutable and writes into it in place, so a
/// read-only mapping would crash the first caller that mutates a tensor. With a private
/// mapping the kernel copies a page on its first write; the file itself never changes
/// and untouched pages stay shared with the page cache.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// Start of the mapping; nil for an empty file (mmap rejects length 0).
    private let base: UnsafeMutableRawPointer?
    public let count: Int

    public init(path: String) throws(TensorIOError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .fileSystem(path: path, operation: "open", message: Self.errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .fileSystem(path: path, operation: "stat", message: Self.errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .fileSystem(path: path, operation: "map", message: "not a regular file")
        }
        count = Int(st.st_size)
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw .fileSystem(path: path, operation: "mmap", message: Self.errnoText())
        }
        base = p
    }

    deinit {
        if let base { munmap(base, count) }
    }

    /// Read-only view of the whole mapping.
    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// The bytes in `range`, without copying; the result keeps the mapping alive.
    /// `range` must lie inside the file (callers validate it first).
    public func data(in range: Range<Int>) -> Data {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        guard let base, !range.isEmpty else { return Data() }
        return Data(bytesNoCopy: base + range.lowerBound, count: range.count,
                    deallocator: .custom { _, _ in withExtendedLifetime(self) {} })
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

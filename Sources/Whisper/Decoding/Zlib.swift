#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// zlib's `compress2`, opened at run time (libz is part of every Linux base system; no
/// system-library target needed). Used for Whisper's compression-ratio heuristic, which is
/// defined on zlib's output size (Python `zlib.compress`, default level).
public struct Zlib: Sendable {
    typealias Compress2 = @convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?,
                                          UnsafePointer<UInt8>?, UInt, Int32) -> Int32
    typealias Bound = @convention(c) (UInt) -> UInt
    let compress2: Compress2
    let bound: Bound

    /// Opens libz (`libz.so.1`). Returns nil if it is missing.
    public init?(path: String = "libz.so.1") {
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL), let c = dlsym(h, "compress2"), let b = dlsym(h, "compressBound") else { return nil }
        compress2 = unsafeBitCast(c, to: Compress2.self)
        bound = unsafeBitCast(b, to: Bound.self)
    }

    /// Size of `bytes` after zlib compression at `level` (-1: zlib's default, 6).
    public func compressedSize(_ bytes: [UInt8], level: Int32 = -1) -> Int {
        var outLen = bound(UInt(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(outLen))
        let rc = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in compress2(o.baseAddress, &outLen, i.baseAddress, UInt(bytes.count), level) }
        }
        precondition(rc == 0, "zlib compress2 failed with \(rc)")
        return Int(outLen)
    }

    /// Whisper's compression ratio: UTF-8 bytes / zlib-compressed bytes. High values
    /// (> 2.4) flag repetitive, looping output.
    public func compressionRatio(_ text: String) -> Double {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return 0 }
        return Double(bytes.count) / Double(compressedSize(bytes))
    }
}

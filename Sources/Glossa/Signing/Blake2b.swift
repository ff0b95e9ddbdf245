import CSodium
import Foundation

/// BLAKE2b from libsodium (`crypto_generichash`), the hash minisign uses: 64-byte digests
/// prehash signed files ("ED" signatures), 32-byte digests check secret keys.
enum Blake2b {
    /// libsodium must be initialised once before use; `sodium_init` is idempotent and
    /// thread-safe, returning 1 when already done.
    private static let ready: Bool = sodium_init() >= 0

    /// A streaming hasher with `outputBytes` of output (16...64). libsodium's state is a
    /// 64-byte-aligned struct Swift cannot import, so it lives in raw memory of
    /// `crypto_generichash_statebytes()` bytes.
    final class Hasher {
        private let state: UnsafeMutableRawPointer
        let outputBytes: Int

        init(outputBytes: Int) {
            precondition(Blake2b.ready, "libsodium failed to initialise")
            precondition(outputBytes >= 16 && outputBytes <= 64)
            self.outputBytes = outputBytes
            state = .allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
            _ = crypto_generichash_init(OpaquePointer(state), nil, 0, outputBytes)
        }

        deinit { state.deallocate() }

        func update(_ bytes: UnsafeRawBufferPointer) {
            guard let p = bytes.baseAddress, bytes.count > 0 else { return }
            _ = crypto_generichash_update(OpaquePointer(state), p.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
        }

        func update(_ bytes: some DataProtocol) {
            for region in bytes.regions { region.withUnsafeBytes { update($0) } }
        }

        func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: outputBytes)
            _ = crypto_generichash_final(OpaquePointer(state), &out, outputBytes)
            return out
        }
    }

    static func hash(_ bytes: some DataProtocol, outputBytes: Int) -> [UInt8] {
        let h = Hasher(outputBytes: outputBytes)
        h.update(bytes)
        return h.finalize()
    }

    /// BLAKE2b-512 of a file, read in 4 MiB pieces (memory stays bounded for large weights).
    static func hash512(file: URL) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let h = Hasher(outputBytes: 64)
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty { h.update(chunk) }
        return h.finalize()
    }
}

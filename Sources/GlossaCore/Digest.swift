import Crypto
import Foundation

/// A content address: `sha256:` followed by 64 lowercase hex digits.
///
/// Every blob, manifest and artifact in Glossa is named by the sha256 of its
/// *uncompressed* bytes, so a digest can never name stale content.
public struct Digest: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// 64 lowercase hex characters.
    public let hex: String

    public static let algorithm = "sha256"

    /// Parses `sha256:<64 hex>`; rejects anything else (upper case included) so that
    /// a digest string maps to exactly one path on disk.
    public init(parsing text: String) throws(DigestError) {
        guard text.hasPrefix("sha256:") else { throw .malformed(text) }
        let hex = String(text.dropFirst(7))
        guard hex.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw .malformed(text)
        }
        self.hex = hex
    }

    /// Digest of `bytes`.
    public init<D: DataProtocol>(of bytes: D) {
        self.hex = SHA256.hash(data: bytes).hexString
    }

    init(trustedHex: String) { self.hex = trustedHex }

    public var description: String { "sha256:\(hex)" }
    /// First 12 hex digits, for display.
    public var short: String { "sha256:" + hex.prefix(12) }

    public static func < (a: Digest, b: Digest) -> Bool { a.hex < b.hex }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try Digest(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Streaming sha256 for data that arrives in pieces (files, uploads).
public struct DigestHasher {
    private var hasher = SHA256()
    public init() {}
    public mutating func update<D: DataProtocol>(_ bytes: D) { hasher.update(data: bytes) }
    public mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(bufferPointer: buffer) }
    public func finalize() -> Digest { Digest(trustedHex: hasher.finalize().hexString) }
}

public enum DigestError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    public var description: String {
        switch self {
        case .malformed(let s):
            return "'\(s)' is not a digest; expected sha256: followed by 64 lowercase hex digits"
        }
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SHA256.Digest {
    var hexString: String { Array(self).hexString }
}

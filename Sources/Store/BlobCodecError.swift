/// Why a stored frame could not be decoded. Internal to Store: the registry wraps it
/// with the blob digest and path (`RegistryError.corruptBlob`).
public enum BlobCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(need: Int, have: Int)
    case badMagic
    case unsupportedVersion(UInt8)
    case headerChecksum
    case bodyChecksum
    case malformed(String)
    case zstd(String)
    /// The header's raw length is not what the caller knows the blob must be (a tensor's
    /// dtype x shape from its manifest).
    case unexpectedLength(declared: UInt64, expected: Int)
    /// The header's raw length passes a `BlobDecodeLimits` bound; refused before any
    /// allocation.
    case exceedsLimit(declared: UInt64, limit: Int, reason: String)

    public var description: String {
        switch self {
        case let .truncated(need, have): return "frame truncated: need \(need) bytes, have \(have)"
        case .badMagic: return "not a Glossa blob frame (bad magic)"
        case let .unsupportedVersion(v): return "frame version \(v) is newer than this Glossa reads; upgrade Glossa"
        case .headerChecksum: return "frame header checksum mismatch (header damaged)"
        case .bodyChecksum: return "frame body checksum mismatch (body damaged)"
        case let .malformed(s): return "malformed frame: \(s)"
        case let .zstd(s): return "zstd: \(s)"
        case let .unexpectedLength(declared, expected):
            return "frame declares \(declared) decoded bytes but the manifest says the tensor is \(expected) bytes (dtype x shape); "
                + "refused before decoding"
        case let .exceedsLimit(declared, limit, reason):
            return "frame declares \(declared) decoded bytes, over the limit of \(limit) (\(reason)); refused before decoding"
        }
    }
}

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

    public var description: String {
        switch self {
        case let .truncated(need, have): return "frame truncated: need \(need) bytes, have \(have)"
        case .badMagic: return "not a Glossa blob frame (bad magic)"
        case let .unsupportedVersion(v): return "frame version \(v) is newer than this Glossa reads; upgrade Glossa"
        case .headerChecksum: return "frame header checksum mismatch (header damaged)"
        case .bodyChecksum: return "frame body checksum mismatch (body damaged)"
        case let .malformed(s): return "malformed frame: \(s)"
        case let .zstd(s): return "zstd: \(s)"
        }
    }
}

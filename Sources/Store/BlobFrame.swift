/// The self-describing frame every stored blob is wrapped in.
///
/// Layout (little-endian), 28-byte header then the body:
///
///     offset size  field
///     0      4     magic "GLZB"
///     4      1     frame version: 2 (written now) or 1 (read still); they differ only in
///                  the body hash
///     5      1     codec: 0 stored (body = raw bytes), 1 zstd (body = one zstd frame),
///                  2 planes (body = plane table + per-plane payloads, see `BlobCodec`)
///     6      1     element type code (`BlobElementType`), 0 for opaque bytes
///     7      1     transform (planes only): 0 none, 1 byte planes, 2 byte planes with
///                  the float exponent moved into its own byte
///     8      8     raw length in bytes (u64)
///     16     8     body hash (`BlobCodec.bodyHash`): XXH3-64 of the body in version 2, a
///                  serial multiply-rotate hash in version 1; any changed body byte is refused
///     24     4     FNV-1a 32 of bytes 0..<24, so a damaged header is refused before
///                  its fields are trusted
///
/// Above this layer the store also re-hashes the decoded bytes against their sha256.
public struct BlobFrameHeader: Sendable, Equatable {
    public static let magic: [UInt8] = Array("GLZB".utf8)
    public static let size = 28
    /// The version this build writes. Version 1 frames (before XXH3: their serial hash took
    /// 12-15% of decoding f32 tensors) are still read.
    public static let version: UInt8 = 2
    public static let readableVersions: ClosedRange<UInt8> = 1...2

    public enum Codec: UInt8, Sendable { case stored = 0, zstd = 1, planes = 2 }
    public enum Transform: UInt8, Sendable { case none = 0, bytePlanes = 1, exponentPlanes = 2 }

    public var codec: Codec
    public var elementType: BlobElementType
    public var transform: Transform
    /// Length of the decoded bytes.
    public var rawLength: UInt64
    /// Hash of the body bytes.
    public var bodyHash: UInt64
    /// Frame version (`readableVersions`); it names the body hash.
    public var version: UInt8 = BlobFrameHeader.version

    func encoded() -> [UInt8] {
        var h = Self.magic + [version, codec.rawValue, elementType.code, transform.rawValue]
        withUnsafeBytes(of: rawLength.littleEndian) { h += $0 }
        withUnsafeBytes(of: bodyHash.littleEndian) { h += $0 }
        withUnsafeBytes(of: fnv1a32(h).littleEndian) { h += $0 }
        return h
    }

    static func parse(_ b: UnsafeRawBufferPointer) throws(BlobCodecError) -> BlobFrameHeader {
        guard b.count >= size else { throw .truncated(need: size, have: b.count) }
        guard Array(b[0..<4]) == magic else { throw .badMagic }
        guard readableVersions.contains(b[4]) else { throw .unsupportedVersion(b[4]) }
        let stored = b.loadUnaligned(fromByteOffset: 24, as: UInt32.self).littleEndian
        guard stored == fnv1a32(Array(b[0..<24])) else { throw .headerChecksum }
        guard let codec = Codec(rawValue: b[5]) else { throw .malformed("unknown codec \(b[5])") }
        guard let et = BlobElementType(code: b[6]) else { throw .malformed("unknown element type \(b[6])") }
        guard let tr = Transform(rawValue: b[7]) else { throw .malformed("unknown transform \(b[7])") }
        let raw = b.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
        guard raw <= 1 << 40 else { throw .malformed("raw length \(raw) exceeds 1 TiB") }
        let bh = b.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian
        return BlobFrameHeader(codec: codec, elementType: et, transform: tr, rawLength: raw, bodyHash: bh, version: b[4])
    }
}

/// FNV-1a, 32 bit: a tiny checksum for the frame header only.
func fnv1a32(_ bytes: [UInt8]) -> UInt32 {
    var h: UInt32 = 2166136261
    for b in bytes { h = (h ^ UInt32(b)) &* 16777619 }
    return h
}

/// What a blob holds, so the codec can pick a transform: opaque bytes (manifests,
/// tokenizer files) or a tensor of one element type.
public enum BlobElementType: Sendable, Equatable, Hashable {
    case opaque
    case tensor(DType)

    /// Frame code: 0 opaque, then DType in a fixed order (never reorder; append only).
    static let order: [DType] = [.f32, .f16, .bf16, .i8, .i16, .i32, .i64, .u8, .bool, .f64]

    var code: UInt8 {
        switch self {
        case .opaque: return 0
        case .tensor(let d): return UInt8(Self.order.firstIndex(of: d)! + 1)
        }
    }

    init?(code: UInt8) {
        if code == 0 { self = .opaque; return }
        let i = Int(code) - 1
        guard i < Self.order.count else { return nil }
        self = .tensor(Self.order[i])
    }
}

import GlossaCore

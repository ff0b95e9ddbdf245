import CZstd

/// One byte plane of a `planes` frame, produced a chunk at a time so `BlobCodec` can merge
/// all planes of a chunk while it is still in cache: no plane-sized buffer is allocated
/// (and page-faulted in) per blob, and each chunk's planes are written and read once in L2.
enum PlaneReader {
    /// Stored bytes: chunks are read in place.
    case stored(UnsafePointer<UInt8>)
    case zstd(ZstdPlaneStream)
    case rans(RANSDecoder)

    /// The next `m` bytes of the plane, `offset` bytes from its start: in place for
    /// stored planes, else decoded into `scratch[0 ..< m]`.
    mutating func next(_ m: Int, offset: Int, scratch: UnsafeMutablePointer<UInt8>) throws(BlobCodecError) -> UnsafePointer<UInt8> {
        switch self {
        case .stored(let base):
            return base + offset
        case .zstd(let stream):
            try stream.read(into: scratch, count: m)
            return UnsafePointer(scratch)
        case .rans(var decoder):
            decoder.decode(into: scratch, count: m)
            self = .rans(decoder)
            return UnsafePointer(scratch)
        }
    }

    /// Refuses a payload that did not end exactly where the plane does.
    func finish() throws(BlobCodecError) {
        switch self {
        case .stored: return
        case .zstd(let stream): try stream.finish()
        case .rans(let decoder): try decoder.finish()
        }
    }
}

/// A zstd frame decompressed in pieces (ZSTD_decompressStream into each chunk). The frame
/// must declare exactly the plane's size; zstd checks the content checksum at its end.
final class ZstdPlaneStream {
    private let context: OpaquePointer
    private var input: ZSTD_inBuffer
    /// What the last call returned: 0 once the frame is complete (checksum included).
    private var remaining = 1

    init(_ src: UnsafeRawBufferPointer, expected: Int) throws(BlobCodecError) {
        guard src.count > 0 else { throw .truncated(need: 1, have: 0) }
        let size = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        guard size == UInt64(expected) else {
            throw .malformed("zstd frame declares \(size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ? "no valid" : String(size)) content size, expected \(expected)")
        }
        context = ZSTD_createDCtx()!
        input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Fills dst[0 ..< m] with the next m decoded bytes.
    func read(into dst: UnsafeMutablePointer<UInt8>, count m: Int) throws(BlobCodecError) {
        var output = ZSTD_outBuffer(dst: dst, size: m, pos: 0)
        while output.pos < m {
            let before = (input.pos, output.pos)
            let r = ZSTD_decompressStream(context, &output, &input)
            if ZSTD_isError(r) != 0 { throw .zstd(String(cString: ZSTD_getErrorName(r))) }
            remaining = r
            if output.pos < m && (r == 0 || (input.pos, output.pos) == before) {
                throw .malformed("zstd frame ended after fewer bytes than its plane holds")
            }
        }
    }

    /// The frame must be complete (its checksum verified) with no byte left over.
    func finish() throws(BlobCodecError) {
        var none = ZSTD_outBuffer(dst: nil, size: 0, pos: 0)
        while remaining != 0 {
            let before = input.pos
            let r = ZSTD_decompressStream(context, &none, &input)
            if ZSTD_isError(r) != 0 { throw .zstd(String(cString: ZSTD_getErrorName(r))) }
            remaining = r
            if r != 0 && input.pos == before { throw .malformed("zstd frame holds more bytes than its plane") }
        }
        guard input.pos == input.size else { throw .malformed("zstd payload has \(input.size - input.pos) bytes after its frame") }
    }
}

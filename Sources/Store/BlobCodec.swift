import CXXHash
import CZstd
import GlossaCore

/// Compresses blobs for storage: float tensors are split into byte planes (the
/// exponent plane compresses well, mantissa planes barely) and each plane is coded on
/// its own with no coding, zstd or static rANS (`RANSCoder`): the fastest to decode of those
/// within `fasterPlaneSlack` of the smallest (`choosePlaneCoding`).
///
/// The sign is moved out of the top byte, so the first plane holds the exponent and the
/// top mantissa bits and the sign joins the (incompressible) next plane: for f32 and
/// bf16 `seeeeeee|emmmmmmm...` becomes planes `eeeeeeee`, `smmmmmmm`, ...; for f16
/// `seeeeemm|mmmmmmmm` becomes `eeeeemmm`, `smmmmmmm`. Positive and negative values then
/// share symbols, which halves the rANS frequency table of small tensors.
///
/// Body of a `planes` frame, after the 20-byte header:
///
///     u8  plane count P (= element size)
///     P x { u8 mode (0 stored, 1 zstd, 2 rANS 4 states, 3 rANS 64 states), u64 payload length }
///     u8  tail length T (raw length mod element size), then T raw bytes
///     P payloads, plane 0 first; each decodes to raw length / element size bytes
///
/// Pure: no I/O, no global state; safe to call from many threads.
public struct BlobCodec: Sendable {
    /// zstd level for every payload (1...19). 3 is zstd's default; higher levels spend
    /// compression time for ratio, decompression speed stays about the same.
    public var level: Int32

    public init(level: Int32 = 3) { self.level = level }

    // MARK: encode

    /// Encodes `raw` as a frame. Tensors of float element types use byte planes.
    public func encode(_ raw: [UInt8], as type: BlobElementType) -> [UInt8] {
        raw.withUnsafeBytes { encode($0, as: type) }
    }

    public func encode(_ raw: UnsafeRawBufferPointer, as type: BlobElementType) -> [UInt8] {
        let transform: BlobFrameHeader.Transform
        switch type {
        case .tensor(.f32), .tensor(.bf16), .tensor(.f16): transform = .exponentPlanes
        case .tensor(.f64): transform = .bytePlanes
        default: transform = .none
        }
        let esize: Int = { if case .tensor(let d) = type { return d.size }; return 1 }()
        if transform == .none || raw.count < esize * 64 {
            // Opaque bytes, integers and tiny tensors: one zstd frame, or stored.
            let z = zstdCompress(raw)
            let useZ = z.count < raw.count
            let body = useZ ? z : Array(raw)
            let h = BlobFrameHeader(codec: useZ ? .zstd : .stored, elementType: type, transform: .none, rawLength: UInt64(raw.count),
                                    bodyHash: body.withUnsafeBytes { Self.bodyHash($0) })
            return h.encoded() + body
        }
        let n = raw.count / esize
        let planes = split(raw, count: n, elementSize: esize, transform: transform)
        var table: [UInt8] = [UInt8(esize)]
        var payloads: [[UInt8]] = []
        for k in 0..<esize {
            let p = planes[(k * n)..<((k + 1) * n)]
            // Candidates in order of decode speed: stored, zstd (Huffman literals, about twice
            // rANS's symbols per second on a near-uniform plane), rANS.
            var candidates: [(mode: UInt8, payload: [UInt8])] = [(0, Array(p)), (1, p.withUnsafeBytes { zstdCompress($0) })]
            // rANS: 64 states (mode 3, decoded with AVX2) from 64 Ki symbols, where its
            // 256-byte state block is noise; 4 states (mode 2) below, where it is not.
            let wide = n >= 65536
            if let r = p.withUnsafeBufferPointer({ RANSCoder.encode($0, lanes: wide ? RANSCoder.wide : RANSCoder.narrow) }) {
                candidates.append((wide ? 3 : 2, r))
            }
            let (mode, payload) = Self.choosePlaneCoding(candidates)
            table.append(mode)
            withUnsafeBytes(of: UInt64(payload.count).littleEndian) { table += $0 }
            payloads.append(payload)
        }
        let tail = raw.count - n * esize
        table.append(UInt8(tail))
        table += raw[(n * esize)...]
        var body = table
        body.reserveCapacity(table.count + payloads.reduce(0) { $0 + $1.count })
        for p in payloads { body += p }
        let h = BlobFrameHeader(codec: .planes, elementType: type, transform: transform, rawLength: UInt64(raw.count),
                                bodyHash: body.withUnsafeBytes { Self.bodyHash($0) })
        return h.encoded() + body
    }

    /// How much larger (as a fraction) a faster-decoding payload may be than the smallest and
    /// still be chosen: 0.4%. A mantissa plane is near-uniform (7.7-7.9 bits a byte), rANS
    /// and zstd code it within a fraction of a percent of each other, and zstd decodes it
    /// about twice as fast; on the exponent plane rANS is 10% smaller and wins.
    static let fasterPlaneSlack = 0.004

    /// The first of `candidates` (ordered fastest to decode first) whose payload is within
    /// `fasterPlaneSlack` of the smallest.
    static func choosePlaneCoding(_ candidates: [(mode: UInt8, payload: [UInt8])]) -> (mode: UInt8, payload: [UInt8]) {
        let smallest = candidates.map(\.payload.count).min()!
        let allowed = Double(smallest) * (1 + fasterPlaneSlack)
        return candidates.first { Double($0.payload.count) <= allowed }!
    }

    // MARK: decode

    /// The header of a frame, without decoding the body.
    public static func header(of frame: [UInt8]) throws(BlobCodecError) -> BlobFrameHeader {
        do { return try frame.withUnsafeBytes { try BlobFrameHeader.parse($0) } } catch { throw error as! BlobCodecError }
    }

    /// Decodes a frame; throws on any damage it can see (header checksum, lengths,
    /// zstd content checksum) and, before allocating, on a raw length `limits` refuse.
    /// Never traps on hostile bytes. Callers must still check the sha256 of the result.
    public static func decode(_ frame: [UInt8], limits: BlobDecodeLimits = .local) throws(BlobCodecError) -> [UInt8] {
        do { return try frame.withUnsafeBytes { try decode($0, limits: limits) } } catch { throw error as! BlobCodecError }
    }

    public static func decode(_ frame: UnsafeRawBufferPointer, limits: BlobDecodeLimits = .local) throws(BlobCodecError) -> [UInt8] {
        let h = try BlobFrameHeader.parse(frame)
        try limits.check(h, frameSize: frame.count)
        let body = UnsafeRawBufferPointer(rebasing: frame[BlobFrameHeader.size...])
        guard bodyHash(body, version: h.version) == h.bodyHash else { throw .bodyChecksum }
        let rawCount = Int(h.rawLength)
        switch h.codec {
        case .stored:
            guard body.count == rawCount else { throw .malformed("stored body is \(body.count) bytes, header says \(rawCount)") }
            return Array(body)
        case .zstd:
            // The encoder stores empty blobs; an empty zstd frame would also need a buffer
            // with no address below.
            guard rawCount > 0 else { throw .malformed("zstd frame for an empty blob (empty blobs are stored)") }
            return try zstdDecompress(body, expected: rawCount)
        case .planes:
            guard case .tensor(let dtype) = h.elementType, h.transform != .none else {
                throw .malformed("plane frame without a float element type or transform")
            }
            let esize = dtype.size
            // The encoder uses planes only from 64 elements up; fewer than one would leave
            // nothing to merge into.
            guard rawCount >= esize else { throw .malformed("plane frame of \(rawCount) bytes holds no whole \(dtype.rawValue) element") }
            var pos = 0
            func need(_ k: Int) throws(BlobCodecError) { if pos + k > body.count { throw .truncated(need: BlobFrameHeader.size + pos + k, have: frame.count) } }
            try need(1)
            guard Int(body[0]) == esize else { throw .malformed("plane count \(body[0]) does not match element size \(esize)") }
            pos = 1
            var modes: [UInt8] = [], lengths: [Int] = []
            for _ in 0..<esize {
                try need(9)
                let mode = body[pos]
                guard mode <= 3 else { throw .malformed("unknown plane mode \(mode)") }
                let len = body.loadUnaligned(fromByteOffset: pos + 1, as: UInt64.self).littleEndian
                guard len <= UInt64(body.count) else { throw .truncated(need: Int(clamping: len), have: body.count) }
                modes.append(mode); lengths.append(Int(len)); pos += 9
            }
            try need(1)
            let tail = Int(body[pos]); pos += 1
            let n = rawCount / esize
            guard tail == rawCount - n * esize else { throw .malformed("tail of \(tail) bytes does not match raw length \(rawCount)") }
            try need(tail)
            let tailBytes = Array(body[pos..<(pos + tail)]); pos += tail
            guard pos + lengths.reduce(0, +) == body.count else {
                throw .malformed("plane payloads total \(lengths.reduce(0, +)) bytes but \(body.count - pos) follow")
            }
            var readers: [PlaneReader] = []
            for i in 0..<esize {
                let payload = UnsafeRawBufferPointer(rebasing: body[pos..<(pos + lengths[i])]); pos += lengths[i]
                switch modes[i] {
                case 0:
                    guard payload.count == n else { throw .malformed("stored plane \(i) is \(payload.count) bytes, expected \(n)") }
                    readers.append(.stored(payload.bindMemory(to: UInt8.self).baseAddress!))
                case 1: readers.append(.zstd(try ZstdPlaneStream(payload, expected: n)))
                default: readers.append(.rans(try RANSDecoder(payload, lanes: modes[i] == 2 ? RANSCoder.narrow : RANSCoder.wide)))
                }
            }
            // Chunk by chunk: each plane's next `chunk` bytes (in L2), then merged into the output.
            let chunk = min(n, Self.planeChunk)
            let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, esize * chunk))
            defer { scratch.deallocate() }
            var chunkPlanes = [UnsafePointer<UInt8>](repeating: UnsafePointer(scratch), count: esize)
            return try [UInt8](unsafeUninitializedCapacity: rawCount) { (buf, count) throws(BlobCodecError) in
                HugePages.advise(UnsafeMutableRawBufferPointer(buf))   // faulted 2 MiB at a time
                var start = 0
                while start < n {
                    let m = min(chunk, n - start)
                    for k in 0..<esize { chunkPlanes[k] = try readers[k].next(m, offset: start, scratch: scratch + k * chunk) }
                    Self.merge(chunkPlanes, count: m, elementSize: esize, transform: h.transform, into: buf.baseAddress! + start * esize)
                    start += m
                }
                for reader in readers { try reader.finish() }
                for (k, b) in tailBytes.enumerated() { buf[n * esize + k] = b }
                count = rawCount
            }
        }
    }

    /// Elements per chunk of plane decoding: 64 Ki (a multiple of every rANS layout's
    /// state count), so one chunk of all planes of an f32 tensor is 256 KiB, inside L2.
    static let planeChunk = 65536

    // MARK: planes

    /// Splits n elements of `esize` little-endian bytes into esize planes of n bytes,
    /// laid out one after another (plane k at offset k*n). Plane 0 holds the most
    /// significant byte (or the exponent with `.exponentPlanes`).
    func split(_ raw: UnsafeRawBufferPointer, count n: Int, elementSize esize: Int, transform: BlobFrameHeader.Transform) -> [UInt8] {
        var planes = [UInt8](repeating: 0, count: n * esize)
        let src = raw.bindMemory(to: UInt8.self).baseAddress!
        planes.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            if transform == .exponentPlanes && esize == 4 {
                let p0 = p, p1 = p + n, p2 = p + 2 * n, p3 = p + 3 * n
                for i in 0..<n {
                    let b0 = src[4 * i], b1 = src[4 * i + 1], b2 = src[4 * i + 2], b3 = src[4 * i + 3]
                    p0[i] = (b3 << 1) | (b2 >> 7)          // exponent e7..e0
                    p1[i] = (b3 & 0x80) | (b2 & 0x7f)      // sign, m22..m16
                    p2[i] = b1; p3[i] = b0
                }
            } else if transform == .exponentPlanes && esize == 2 {
                let p0 = p, p1 = p + n
                for i in 0..<n {
                    let lo = src[2 * i], hi = src[2 * i + 1]
                    p0[i] = (hi << 1) | (lo >> 7)          // bf16 exponent e7..e0 (f16: e4..e0 m9..m7)
                    p1[i] = (hi & 0x80) | (lo & 0x7f)      // sign, m6..m0
                }
            } else {
                for k in 0..<esize {
                    let byte = esize - 1 - k, pk = p + k * n
                    for i in 0..<n { pk[i] = src[esize * i + byte] }
                }
            }
        }
        return planes
    }

    /// Inverse of `split`: n elements from `planes` (plane k holds byte k of each element, as
    /// `split` orders them) into n*esize bytes at `dst`. Whole elements are assembled in
    /// registers and stored at once (little-endian), which vectorises.
    static func merge(_ planes: [UnsafePointer<UInt8>], count n: Int, elementSize esize: Int, transform: BlobFrameHeader.Transform,
                      into dst: UnsafeMutablePointer<UInt8>) {
        let raw = UnsafeMutableRawPointer(dst)
        if transform == .exponentPlanes && esize == 4 {
            let p0 = planes[0], p1 = planes[1], p2 = planes[2], p3 = planes[3]
            for i in 0..<n {
                let e = UInt32(p0[i]), s = UInt32(p1[i])
                let v = (s & 0x80) << 24 | e << 23 | (s & 0x7f) << 16 | UInt32(p2[i]) << 8 | UInt32(p3[i])
                raw.storeBytes(of: v.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        } else if transform == .exponentPlanes && esize == 2 {
            let p0 = planes[0], p1 = planes[1]
            for i in 0..<n {
                let e = UInt16(p0[i]), s = UInt16(p1[i])
                let v = (s & 0x80) << 8 | e << 7 | (s & 0x7f)
                raw.storeBytes(of: v.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        } else {
            for k in 0..<esize {
                let byte = esize - 1 - k, pk = planes[k]
                for i in 0..<n { dst[esize * i + byte] = pk[i] }
            }
        }
    }

    /// `frame` with its header checksum and body hash recomputed from the bytes as they
    /// are. Only the fuzz target (fuzz/Sources) uses it: a fuzzer cannot forge a hash, so
    /// without resealing almost every mutation stops at the checksums and the decoders
    /// behind them are never explored. Frames shorter than a header come back unchanged.
    public static func resealed(_ frame: [UInt8]) -> [UInt8] {
        guard frame.count >= BlobFrameHeader.size else { return frame }
        var out = frame
        let body = frame.withUnsafeBytes { bodyHash(UnsafeRawBufferPointer(rebasing: $0[BlobFrameHeader.size...]), version: frame[4]) }
        withUnsafeBytes(of: body.littleEndian) { out.replaceSubrange(16..<24, with: $0) }
        withUnsafeBytes(of: fnv1a32(Array(out[0..<24])).littleEndian) { out.replaceSubrange(24..<28, with: $0) }
        return out
    }

    // MARK: body hash

    /// The 64-bit check of a frame body, by frame version. Catches damage in bits no decoder
    /// looks at (e.g. zstd frame padding) before the sha256 of the decoded bytes would.
    /// Version 2: XXH3-64 (libxxhash), several bytes per cycle. Version 1: 8 bytes per step
    /// (xor, multiply by an odd constant, rotate; each step is a bijection of the state, so any
    /// change to a single word changes the result), one serial chain, 5 cycles a step.
    static func bodyHash(_ b: UnsafeRawBufferPointer, version: UInt8 = BlobFrameHeader.version) -> UInt64 {
        if version >= 2 { return XXH3_64bits(b.baseAddress, b.count) }
        var h: UInt64 = 0x9E3779B97F4A7C15 ^ UInt64(b.count)
        let words = b.count / 8
        var i = 0
        while i < words {
            h = (h ^ UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) &* 0xFF51AFD7ED558CCD
            h = (h << 29) | (h >> 35)
            i += 1
        }
        var tail: UInt64 = 0
        for k in (8 * words)..<b.count { tail |= UInt64(b[k]) << (8 * UInt64(k - 8 * words)) }
        h = (h ^ tail ^ 0xA5) &* 0xC4CEB9FE1A85EC53
        return h ^ (h >> 33)
    }

    // MARK: zstd

    /// One zstd frame with the content size and an XXH64 content checksum.
    func zstdCompress(_ src: UnsafeRawBufferPointer) -> [UInt8] {
        let cctx = ZSTD_createCCtx()!
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        let bound = ZSTD_compressBound(src.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            ZSTD_compress2(cctx, dst.baseAddress, bound, src.baseAddress, src.count)
        }
        precondition(ZSTD_isError(written) == 0, "zstd compress failed: \(String(cString: ZSTD_getErrorName(written)))")
        out.removeSubrange(written...)
        return out
    }

    static func zstdDecompress(_ src: UnsafeRawBufferPointer, expected: Int) throws(BlobCodecError) -> [UInt8] {
        guard src.count > 0 else { throw .truncated(need: 1, have: 0) }
        let size = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        guard size == UInt64(expected) else {
            throw .malformed("zstd frame declares \(size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ? "no valid" : String(size)) content size, expected \(expected)")
        }
        var out = [UInt8](repeating: 0, count: expected)
        try out.withUnsafeMutableBufferPointer { (dst) throws(BlobCodecError) in try zstdDecompress(src, into: dst.baseAddress!, expected: expected) }
        return out
    }

    static func zstdDecompress(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<UInt8>, expected: Int) throws(BlobCodecError) {
        guard src.count > 0 else { throw .truncated(need: 1, have: 0) }
        let size = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        guard size == UInt64(expected) else {
            throw .malformed("zstd frame declares \(size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ? "no valid" : String(size)) content size, expected \(expected)")
        }
        let got = ZSTD_decompress(dst, expected, src.baseAddress, src.count)
        if ZSTD_isError(got) != 0 { throw .zstd(String(cString: ZSTD_getErrorName(got))) }
        guard got == expected else { throw .malformed("zstd produced \(got) bytes, expected \(expected)") }
    }
}

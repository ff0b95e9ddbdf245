import CIntrinsics

/// A `RANSCoder` payload decoded in pieces, so a plane can be decoded a chunk at a time
/// next to the others (`BlobCodec` merges planes chunk by chunk in cache instead of
/// decoding each whole plane into memory first). The states and the words read carry over
/// between calls; symbol i is always on state i % lanes.
///
/// Damage never makes it read out of bounds: words are read through a clamped index and
/// the AVX2 kernel stops while a full group of words is still left. `finish` then refuses a
/// stream whose states do not end at the encoder's start value or whose words were not all
/// read exactly once.
struct RANSDecoder {
    let lanes: Int
    /// Per slot: symbol << 24 | (freq - 1) << 12 | (slot - start); 2^scaleBits slots.
    private let table: [UInt32]
    private let scaleBits: UInt32
    private var x: [UInt32]
    private let words: UnsafeRawPointer
    private let wordCount: Int
    /// Words read so far (may pass wordCount on a damaged stream; reads are clamped).
    private var q = 0
    /// Symbols decoded so far.
    private var decoded = 0
    private let payloadSize: Int, wordsOffset: Int
    /// True when this build of Store has the AVX2 kernel (a CPU target with AVX2 and BMI2,
    /// GLOSSA_CPU=haswell); otherwise every layout decodes in the plain loop.
    static var hasVectorKernel: Bool { glossa_rans64_avx2() != 0 }
    /// False: never the AVX2 kernel (tests compare both paths in one build).
    private let vectorized: Bool

    init(_ src: UnsafeRawBufferPointer, lanes: Int, vectorized: Bool = true) throws(BlobCodecError) {
        let bytes = src.bindMemory(to: UInt8.self)
        var p = 0
        (table, scaleBits) = try RANSCoder.readTable(bytes, &p)
        guard p + 4 * lanes <= bytes.count else { throw .truncated(need: p + 4 * lanes, have: bytes.count) }
        let at = p
        x = (0..<lanes).map { k in UInt32(littleEndian: src.loadUnaligned(fromByteOffset: at + 4 * k, as: UInt32.self)) }
        p += 4 * lanes
        guard (bytes.count - p) % 2 == 0 else { throw .malformed("rANS stream has an odd byte count") }
        self.lanes = lanes
        self.vectorized = vectorized
        words = src.baseAddress! + p
        wordCount = (bytes.count - p) / 2
        payloadSize = bytes.count
        wordsOffset = p
    }

    /// Decodes the next `m` symbols into dst[0 ..< m]. Kept out of line: inlined into
    /// `BlobCodec.decode`, the narrow loop's selects became branches (20% slower on LoRA tensors).
    @inline(never)
    mutating func decode(into dst: UnsafeMutablePointer<UInt8>, count m: Int) {
        var i = 0
        let k = scaleBits, mask: UInt32 = (1 << scaleBits) - 1, lower = RANSCoder.lower
        let words = self.words, wordCount = self.wordCount, lastWord = max(wordCount - 1, 0)
        var q = self.q
        table.withUnsafeBufferPointer { pkB in
            let pk = pkB.baseAddress!
            @inline(__always) func word(_ at: Int) -> UInt32 {
                wordCount > 0 ? UInt32(UInt16(littleEndian: words.loadUnaligned(fromByteOffset: 2 * min(at, lastWord), as: UInt16.self))) : 0
            }
            if vectorized && lanes == RANSCoder.wide && decoded % lanes == 0 && Self.hasVectorKernel {
                var read = q
                let groups = x.withUnsafeMutableBufferPointer {
                    glossa_rans64_decode($0.baseAddress!, pk, k, words, wordCount, &read, dst, m / lanes)
                }
                q = read; i = groups * lanes
            } else if lanes == RANSCoder.narrow && decoded % lanes == 0 {
                // Four independent states so their dependency chains overlap; renormalisation
                // reads at most one word per state with a select, not a branch (the word is
                // loaded whether needed or not, through the clamped index).
                var x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3]
                let hasWords = wordCount > 0
                let full = m & ~3
                while i < full {
                    let e0 = pk[Int(x0 & mask)], e1 = pk[Int(x1 & mask)], e2 = pk[Int(x2 & mask)], e3 = pk[Int(x3 & mask)]
                    dst[i] = UInt8(truncatingIfNeeded: e0 >> 24); dst[i + 1] = UInt8(truncatingIfNeeded: e1 >> 24)
                    dst[i + 2] = UInt8(truncatingIfNeeded: e2 >> 24); dst[i + 3] = UInt8(truncatingIfNeeded: e3 >> 24)
                    x0 = (((e0 >> 12) & 0xfff) &+ 1) &* (x0 >> k) &+ (e0 & 0xfff)
                    x1 = (((e1 >> 12) & 0xfff) &+ 1) &* (x1 >> k) &+ (e1 & 0xfff)
                    x2 = (((e2 >> 12) & 0xfff) &+ 1) &* (x2 >> k) &+ (e2 & 0xfff)
                    x3 = (((e3 >> 12) & 0xfff) &+ 1) &* (x3 >> k) &+ (e3 & 0xfff)
                    var wv = hasWords ? UInt32(UInt16(littleEndian: words.loadUnaligned(fromByteOffset: 2 * min(q, lastWord), as: UInt16.self))) : 0
                    var r = x0 < lower
                    x0 = r ? (x0 << 16) | wv : x0; q &+= r ? 1 : 0
                    wv = hasWords ? UInt32(UInt16(littleEndian: words.loadUnaligned(fromByteOffset: 2 * min(q, lastWord), as: UInt16.self))) : 0
                    r = x1 < lower
                    x1 = r ? (x1 << 16) | wv : x1; q &+= r ? 1 : 0
                    wv = hasWords ? UInt32(UInt16(littleEndian: words.loadUnaligned(fromByteOffset: 2 * min(q, lastWord), as: UInt16.self))) : 0
                    r = x2 < lower
                    x2 = r ? (x2 << 16) | wv : x2; q &+= r ? 1 : 0
                    wv = hasWords ? UInt32(UInt16(littleEndian: words.loadUnaligned(fromByteOffset: 2 * min(q, lastWord), as: UInt16.self))) : 0
                    r = x3 < lower
                    x3 = r ? (x3 << 16) | wv : x3; q &+= r ? 1 : 0
                    i += 4
                }
                x[0] = x0; x[1] = x1; x[2] = x2; x[3] = x3
            }
            // Whatever is left (a tail, or everything without AVX2): one symbol at a time.
            x.withUnsafeMutableBufferPointer { xs in
                var lane = (decoded + i) % lanes
                while i < m {
                    let e = pk[Int(xs[lane] & mask)]
                    dst[i] = UInt8(truncatingIfNeeded: e >> 24)
                    var v = (((e >> 12) & 0xfff) &+ 1) &* (xs[lane] >> k) &+ (e & 0xfff)
                    if v < lower { v = (v << 16) | word(q); q += 1 }
                    xs[lane] = v
                    i += 1
                    lane = lane + 1 == lanes ? 0 : lane + 1
                }
            }
        }
        self.q = q
        decoded += m
    }

    /// Checks that the stream ended where the encoder started: every state back at the
    /// lower bound and every word read exactly once.
    func finish() throws(BlobCodecError) {
        if q > wordCount { throw .truncated(need: wordsOffset + 2 * q, have: payloadSize) }
        guard q == wordCount, x.allSatisfy({ $0 == RANSCoder.lower }) else {
            throw .malformed("rANS stream damaged (final state or length mismatch)")
        }
    }
}

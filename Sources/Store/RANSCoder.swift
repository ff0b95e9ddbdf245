/// Static order-0 rANS for one byte plane, after Fabian Giesen's public-domain
/// `rans_byte.h`, but with 16-bit renormalisation (32-bit state in [2^16, 2^32), at most
/// one 16-bit word read per symbol, done without a branch) and interleaved states.
///
/// Why: the exponent plane of a float tensor has about 2.5 bits of entropy per byte and
/// a peaked distribution, where zstd's Huffman literals (whole-bit code lengths) lose
/// 0.5 bit or more per symbol; rANS codes within about 0.01 bit of the order-0 entropy.
///
/// Two layouts, the plane modes of `BlobCodec`: mode 2 has 4 states (scalar decoding,
/// and the shorter payload for small planes); mode 3 has 64, which the AVX2 decoder
/// (`glossa_rans64_decode` in CIntrinsics) runs as eight 8-lane vectors, several times
/// faster than the scalar loop, whose states share one serial words pointer. Symbol i
/// belongs to state i % lanes in both.
///
/// Payload:
///
///     u8 precision k, u8 first symbol F, u8 last symbol G, LEB128 frequency of
///     each symbol F...G (0 = absent); frequencies sum to 2^k (k = 8...12)
///     u32 x[lanes]                        initial decoder states
///     renormalisation words (u16, little-endian), read forward
///
/// Decoding checks that every state ends at the encoder's start value and every byte is
/// consumed, so damage is refused rather than silently decoded.
enum RANSCoder {
    /// Largest probability precision: 12 bits keeps the decode table at 4096 x 4 bytes,
    /// inside L1. Small planes may use fewer bits (a shorter frequency table).
    static let maxScaleBits: UInt32 = 12
    /// Lower bound of the normalised state interval [L, 2^16 L).
    static let lower: UInt32 = 1 << 16
    /// The interleaved layouts: `narrow` (plane mode 2) and `wide` (plane mode 3).
    static let narrow = 4, wide = 64

    /// Quantised frequencies summing to `total`; every present symbol gets at least 1.
    static func frequencies(_ src: UnsafeBufferPointer<UInt8>, scaleBits: UInt32) -> [UInt32] {
        let total: UInt32 = 1 << scaleBits
        var counts = [Int](repeating: 0, count: 256)
        for b in src { counts[Int(b)] += 1 }
        var f = [UInt32](repeating: 0, count: 256)
        let n = src.count
        for s in 0..<256 where counts[s] > 0 {
            f[s] = max(1, UInt32((Double(counts[s]) * Double(total) / Double(n)).rounded()))
        }
        var sum = f.reduce(0, +)
        // Give or take the rounding error from the most frequent symbols (they lose the least).
        while sum != total {
            var best = 0
            for s in 0..<256 where f[s] > f[best] { best = s }
            if sum > total {
                let take = min(sum - total, f[best] - 1)
                if take == 0 { // every symbol at 1: cannot happen with <= 256 symbols and total >= 2^8
                    preconditionFailure("rANS: cannot normalise frequencies")
                }
                f[best] -= take; sum -= take
            } else {
                f[best] += total - sum; sum = total
            }
        }
        return f
    }

    /// Encodes `src` (n > 0 bytes). Returns nil when the result would not be smaller than n.
    /// Planes under 64 KiB try precisions of 9...12 bits and keep the smallest result
    /// (the frequency table is a visible share of a small LoRA tensor).
    static func encode(_ src: UnsafeBufferPointer<UInt8>, lanes: Int = narrow) -> [UInt8]? {
        guard src.count > 0 else { return nil }
        let candidates: [UInt32] = src.count < 65536 ? [9, 10, 11, 12] : [12]
        var best: [UInt8]? = nil
        for k in candidates {
            let e = encode(src, scaleBits: k, lanes: lanes)
            if best == nil || e.count < best!.count { best = e }
        }
        return best!.count < src.count ? best : nil
    }

    static func encode(_ src: UnsafeBufferPointer<UInt8>, scaleBits: UInt32, lanes: Int = narrow) -> [UInt8] {
        let n = src.count
        let freq = frequencies(src, scaleBits: scaleBits)
        var start = [UInt32](repeating: 0, count: 256)
        var acc: UInt32 = 0
        for s in 0..<256 { start[s] = acc; acc += freq[s] }
        let table = writeTable(freq, scaleBits: scaleBits)

        // Bytes are produced back to front; reserve the worst case and fill from the end.
        let cap = 2 * n + 4 * lanes + 16
        var buf = [UInt8](repeating: 0, count: cap)
        var pos = cap
        buf.withUnsafeMutableBufferPointer { out in
            freq.withUnsafeBufferPointer { fq in start.withUnsafeBufferPointer { st in
                // Symbol i belongs to state i % lanes. The decoder runs forward, so the
                // encoder runs backward: first the tail (n % lanes symbols), then whole
                // groups from the last, states lanes-1 ... 0 within a group, so the
                // decoder reads each group's words in state order.
                @inline(__always) func put(_ x: inout UInt32, _ s: Int) {
                    let f = fq[s]
                    let xMax = ((lower >> scaleBits) << 16) &* f
                    if x >= xMax { pos -= 2; out[pos] = UInt8(truncatingIfNeeded: x); out[pos + 1] = UInt8(truncatingIfNeeded: x >> 8); x >>= 16 }
                    x = ((x / f) << scaleBits) &+ (x % f) &+ st[s]
                }
                var x = [UInt32](repeating: lower, count: lanes)
                x.withUnsafeMutableBufferPointer { xs in
                    var i = n - 1, lane = (n - 1) % lanes
                    while i >= 0 {
                        put(&xs[lane], Int(src[i]))
                        i -= 1
                        lane = lane == 0 ? lanes - 1 : lane - 1
                    }
                }
                for k in stride(from: lanes - 1, through: 0, by: -1) {
                    let v = x[k]
                    pos -= 4
                    out[pos] = UInt8(truncatingIfNeeded: v); out[pos + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[pos + 2] = UInt8(truncatingIfNeeded: v >> 16); out[pos + 3] = UInt8(truncatingIfNeeded: v >> 24)
                }
            } }
        }
        return table + buf[pos...]
    }

    /// Decodes a whole payload of `lanes` states (`narrow` or `wide`) into exactly `n` bytes at `dst`.
    static func decode(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<UInt8>, count n: Int,
                       lanes: Int = narrow) throws(BlobCodecError) {
        var d = try RANSDecoder(src, lanes: lanes)
        d.decode(into: dst, count: n)
        try d.finish()
    }

    /// Table layout: u8 precision k (frequencies sum to 2^k, 8...12), u8 first symbol
    /// F, u8 last symbol G, then for F...G a LEB128 frequency (0 = absent). Exponent
    /// planes use a short contiguous range, so this costs 1-2 bytes per symbol.
    static func writeTable(_ freq: [UInt32], scaleBits: UInt32) -> [UInt8] {
        let present = (0..<256).filter { freq[$0] > 0 }
        let first = present.first!, last = present.last!
        var t: [UInt8] = [UInt8(scaleBits), UInt8(first), UInt8(last)]
        for s in first...last {
            var v = freq[s]
            repeat { let byte = UInt8(v & 0x7f); v >>= 7; t.append(v > 0 ? byte | 0x80 : byte) } while v > 0
        }
        return t
    }

    /// Reads the table; returns per slot symbol << 24 | (freq - 1) << 12 | (slot - start).
    static func readTable(_ b: UnsafeBufferPointer<UInt8>, _ p: inout Int) throws(BlobCodecError) -> ([UInt32], UInt32) {
        guard b.count >= 3 else { throw .truncated(need: 3, have: b.count) }
        let scaleBits = UInt32(b[0]), first = Int(b[1]), last = Int(b[2])
        guard (8...maxScaleBits).contains(scaleBits) else { throw .malformed("rANS table: precision \(scaleBits) bits") }
        guard first <= last else { throw .malformed("rANS table: symbol range \(first)...\(last)") }
        let total: UInt32 = 1 << scaleBits
        p = 3
        var packed = [UInt32](repeating: 0, count: Int(total))
        var acc: UInt32 = 0
        for s in first...last {
            var v: UInt32 = 0, shift: UInt32 = 0
            while true {
                guard p < b.count else { throw .truncated(need: p + 1, have: b.count) }
                let byte = b[p]; p += 1
                v |= UInt32(byte & 0x7f) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
                guard shift < 21 else { throw .malformed("rANS table: frequency too long") }
            }
            guard acc + v <= total else { throw .malformed("rANS table: frequencies exceed \(total)") }
            for slot in acc..<(acc + v) { packed[Int(slot)] = UInt32(s) << 24 | (v - 1) << 12 | (slot - acc) }
            acc += v
        }
        guard acc == total else { throw .malformed("rANS table: frequencies sum to \(acc), expected \(total)") }
        return (packed, scaleBits)
    }
}

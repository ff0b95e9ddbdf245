/// GPT-2's reversible byte <-> Unicode mapping used by byte-level BPE.
///
/// Printable Latin-1 bytes ('!'...'~', '¡'...'¬', '®'...'ÿ') map to themselves; the other
/// 68 bytes (controls, space, 0x7F-0xA0, 0xAD) map to U+0100, U+0101, ... in byte order,
/// so space (0x20) becomes 'Ġ' (U+0120) and newline 'Ċ' (U+010A).
enum ByteLevel {
    /// `scalars[b]` is the character standing for byte b.
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `scalars`.
    static let bytes: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (b, s) in scalars.enumerated() { map[s] = UInt8(b) }
        return map
    }()

    /// The byte-level string of some UTF-8 bytes (how tokens are spelled in `vocab`).
    static func encode<S: Sequence>(_ utf8: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in utf8 { s.append(scalars[Int(b)]) }
        return String(s)
    }

    /// Bytes of a token spelled in byte-level characters; characters outside the map
    /// contribute their own UTF-8 (as Hugging Face's ByteLevel decoder does).
    static func decode(_ token: String, into out: inout [UInt8]) {
        for s in token.unicodeScalars {
            if let b = bytes[s] { out.append(b) } else { out.append(contentsOf: Array(String(s).utf8)) }
        }
    }
}

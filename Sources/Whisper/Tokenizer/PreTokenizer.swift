/// The GPT-2 / byte-level BPE pre-tokenizer, written by hand over Unicode scalars.
///
/// It splits text exactly as the regular expression used by Hugging Face `tokenizers`
/// (ByteLevel, `use_regex: true`) and OpenAI's GPT-2 encoder:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// with \p{L} = general category L*, \p{N} = N*, \s = Unicode White_Space.
/// Alternatives are tried in order at each position, as the regex engine does; the
/// `\s+(?!\S)` case keeps a whitespace run's last character for the next word when a
/// word follows ("a  b" -> "a", " ", " b").
enum PreTokenizer {
    enum Kind { case letter, number, space, other }

    @inline(__always)
    static func kind(_ s: Unicode.Scalar) -> Kind {
        // ASCII fast path.
        if s.value < 0x80 {
            switch s.value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        let p = s.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// Splits `text` into pieces (ranges of `scalars`).
    static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let n = scalars.count
        let kinds = scalars.map(kind)
        var pieces: [Range<Int>] = []
        var i = 0
        func run(_ from: Int, _ k: Kind) -> Int {
            var j = from
            while j < n && kinds[j] == k { j += 1 }
            return j
        }
        while i < n {
            let c = scalars[i]
            // 's 't 're 've 'm 'll 'd (case-sensitive, ASCII apostrophe only).
            if c == "'" && i + 1 < n {
                let a = scalars[i + 1]
                let b: Unicode.Scalar? = i + 2 < n ? scalars[i + 2] : nil
                var len = 0
                if a == "s" || a == "t" || a == "m" || a == "d" { len = 2 }
                else if (a == "r" || a == "v") && b == "e" { len = 3 }
                else if a == "l" && b == "l" { len = 3 }
                if len > 0 { pieces.append(i..<(i + len)); i += len; continue }
            }
            // " ?X+" for X in letter, number, other: an optional single U+0020 first.
            let hasSpace = c == " " && i + 1 < n && kinds[i + 1] != .space
            let start = hasSpace ? i + 1 : i
            let k = kinds[start]
            if k != .space {
                let end = run(start, k)
                pieces.append(i..<end)
                i = end
                continue
            }
            // Whitespace run: \s+(?!\S) takes all but the last if a non-space follows.
            let end = run(i, .space)
            if end == n || end - i == 1 {
                pieces.append(i..<end)  // to the end of text, or \s+ for a single one
                i = end
            } else {
                pieces.append(i..<(end - 1))
                i = end - 1
            }
        }
        return pieces
    }
}

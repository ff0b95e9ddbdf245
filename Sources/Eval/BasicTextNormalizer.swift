import Foundation

/// Whisper's language-independent text normaliser (`whisper/normalizers/basic.py`,
/// also `transformers.models.whisper.english_normalizer.BasicTextNormalizer`):
///
/// 1. lowercase;
/// 2. remove spans in angle or square brackets: `[<\[][^>\]]*[>\]]`;
/// 3. remove spans in parentheses: `\(([^)]+?)\)`;
/// 4. NFKC, then every character of Unicode category M (marks), S (symbols) or P
///    (punctuation) becomes a space (with `removeDiacritics`: NFKD, letters like
///    "ø" -> "o" spelled out, combining marks Mn dropped, other M/S/P -> space);
/// 5. lowercase again; optionally split into grapheme clusters joined by spaces;
/// 6. every whitespace run becomes one space (leading/trailing spaces are kept, as
///    Whisper keeps them: WER word splitting ignores them).
public struct BasicTextNormalizer: Sendable {
    public var removeDiacritics: Bool
    public var splitLetters: Bool

    public init(removeDiacritics: Bool = false, splitLetters: Bool = false) {
        self.removeDiacritics = removeDiacritics
        self.splitLetters = splitLetters
    }

    /// Letters NFKD does not decompose, spelled as Whisper's ADDITIONAL_DIACRITICS does.
    static let additionalDiacritics: [Unicode.Scalar: String] = [
        "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ẞ": "SS",
        "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "th", "ł": "l", "Ł": "L",
    ]

    public func callAsFunction(_ text: String) -> String { normalize(text) }

    public func normalize(_ text: String) -> String {
        var s = Self.lowercase(text)
        s = Self.removeBracketed(s)
        s = Self.removeParenthesised(s)
        s = removeDiacritics ? Self.removeSymbolsAndDiacritics(s) : Self.removeSymbols(s)
        s = Self.lowercase(s)
        if splitLetters {
            s = s.map(String.init).joined(separator: " ")
        }
        return Self.collapseWhitespace(s)
    }

    /// Python's `str.lower()`: full Unicode lowercase mapping per code point, with the
    /// Final_Sigma rule (capital sigma at the end of a word becomes "ς").
    static func lowercase(_ text: String) -> String {
        let u = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, c) in u.enumerated() {
            if c == "\u{03A3}" {
                // Final_Sigma: a cased letter before (skipping case-ignorables) and none after.
                var j = i - 1
                while j >= 0 && u[j].properties.isCaseIgnorable { j -= 1 }
                let casedBefore = j >= 0 && u[j].properties.isCased
                var k = i + 1
                while k < u.count && u[k].properties.isCaseIgnorable { k += 1 }
                let casedAfter = k < u.count && u[k].properties.isCased
                out.append(casedBefore && !casedAfter ? "\u{03C2}" : "\u{03C3}")
            } else if c.value < 0x80 {
                out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    static func isMarkSymbolOrPunctuation(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    static func removeSymbols(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for c in s.precomposedStringWithCompatibilityMapping.unicodeScalars {
            out.append(isMarkSymbolOrPunctuation(c) ? " " : c)
        }
        return String(out)
    }

    static func removeSymbolsAndDiacritics(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for c in s.decomposedStringWithCompatibilityMapping.unicodeScalars {
            if let spelled = additionalDiacritics[c] {
                out.append(contentsOf: spelled.unicodeScalars)
            } else if c.properties.generalCategory == .nonspacingMark {
                continue
            } else {
                out.append(isMarkSymbolOrPunctuation(c) ? " " : c)
            }
        }
        return String(out)
    }

    /// `re.sub(r"[<\[][^>\]]*[>\]]", "", s)`: from an opener to the first closer of either kind.
    static func removeBracketed(_ s: String) -> String {
        let u = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < u.count {
            if u[i] == "<" || u[i] == "[", let close = u[(i + 1)...].firstIndex(where: { $0 == ">" || $0 == "]" }) {
                i = close + 1
            } else {
                out.append(u[i]); i += 1
            }
        }
        return String(out)
    }

    /// `re.sub(r"\(([^)]+?)\)", "", s)`: "(" up to the first ")", at least one character between.
    static func removeParenthesised(_ s: String) -> String {
        let u = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < u.count {
            if u[i] == "(", let close = u[(i + 1)...].firstIndex(of: ")"), close > i + 1 {
                i = close + 1
            } else {
                out.append(u[i]); i += 1
            }
        }
        return String(out)
    }

    /// Python's `\s` in `str` patterns: Unicode whitespace as `str.isspace()` sees it.
    static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
        if c.properties.isWhitespace { return true }
        // str.isspace() also counts the ASCII separators U+001C...U+001F.
        return (0x1C...0x1F).contains(c.value)
    }

    /// `re.sub(r"\s+", " ", s)`.
    static func collapseWhitespace(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var inSpace = false
        for c in s.unicodeScalars {
            if isPythonSpace(c) {
                if !inSpace { out.append(" ") }
                inSpace = true
            } else {
                out.append(c); inSpace = false
            }
        }
        return String(out)
    }
}

/// What an error rate counts: words (WER) or characters (CER).
public enum ScoringUnit: String, Codable, Sendable, CaseIterable {
    case word
    case character

    /// Whisper languages written without spaces between words, scored by CER:
    /// Chinese, Cantonese, Japanese, Thai, Lao, Burmese, Khmer, Tibetan.
    public static let characterLanguages: Set<String> = ["zh", "yue", "ja", "th", "lo", "my", "km", "bo"]

    public static func forLanguage(_ code: String) -> ScoringUnit {
        characterLanguages.contains(code.lowercased()) ? .character : .word
    }
}

/// WER and CER on already-normalised strings, tokenised exactly as jiwer's defaults do.
public enum ErrorRate {
    /// jiwer `wer_default`, literally: `re.sub(r"\s\s+", " ")`, `strip()`, split on " "
    /// dropping empty words. (A lone tab between words does not split them, as in jiwer.)
    public static func words(_ s: String) -> [String] {
        let u = Array(s.unicodeScalars)
        var collapsed: [Unicode.Scalar] = []
        var i = 0
        while i < u.count {
            if BasicTextNormalizer.isPythonSpace(u[i]) {
                var j = i + 1
                while j < u.count && BasicTextNormalizer.isPythonSpace(u[j]) { j += 1 }
                if j - i >= 2 { collapsed.append(" ") } else { collapsed.append(u[i]) }
                i = j
            } else {
                collapsed.append(u[i]); i += 1
            }
        }
        var lo = 0, hi = collapsed.count
        while lo < hi && BasicTextNormalizer.isPythonSpace(collapsed[lo]) { lo += 1 }
        while hi > lo && BasicTextNormalizer.isPythonSpace(collapsed[hi - 1]) { hi -= 1 }
        // Split on U+0020 by code point (a String split would see " " + combining mark as one Character).
        return collapsed[lo..<hi].split(separator: " ", omittingEmptySubsequences: true).map { w in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: w)
            return String(view)
        }
    }

    /// jiwer `cer_default`: strip, then every Unicode scalar (Python code point) is a unit.
    /// Pass `ignoringSpaces` to score languages without word spaces on their letters only.
    public static func characters(_ s: String, ignoringSpaces: Bool = false) -> [Unicode.Scalar] {
        let scalars = Array(s.unicodeScalars)
        if ignoringSpaces { return scalars.filter { !BasicTextNormalizer.isPythonSpace($0) } }
        var lo = 0, hi = scalars.count
        while lo < hi && BasicTextNormalizer.isPythonSpace(scalars[lo]) { lo += 1 }
        while hi > lo && BasicTextNormalizer.isPythonSpace(scalars[hi - 1]) { hi -= 1 }
        return Array(scalars[lo..<hi])
    }

    /// Word-level counts (equal to `jiwer.process_words` on the same strings).
    public static func wordCounts(reference: String, hypothesis: String) -> EditCounts {
        // Compare words by code points, as Python does (Swift's String == would equate
        // canonically equivalent spellings such as "é" and "e\u{301}").
        Levenshtein.align(reference: words(reference).map { Array($0.unicodeScalars) },
                          hypothesis: words(hypothesis).map { Array($0.unicodeScalars) })
    }

    /// Character-level counts (equal to `jiwer.process_characters` unless `ignoringSpaces`).
    public static func characterCounts(reference: String, hypothesis: String, ignoringSpaces: Bool = false) -> EditCounts {
        Levenshtein.align(reference: characters(reference, ignoringSpaces: ignoringSpaces),
                          hypothesis: characters(hypothesis, ignoringSpaces: ignoringSpaces))
    }

    /// Counts in `unit`; character scoring ignores spaces (they are punctuation
    /// artefacts of normalisation in languages written without them).
    public static func counts(reference: String, hypothesis: String, unit: ScoringUnit) -> EditCounts {
        switch unit {
        case .word: return wordCounts(reference: reference, hypothesis: hypothesis)
        case .character: return characterCounts(reference: reference, hypothesis: hypothesis, ignoringSpaces: true)
        }
    }
}

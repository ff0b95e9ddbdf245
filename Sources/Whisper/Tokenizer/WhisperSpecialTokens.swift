/// Ids of Whisper's control tokens, read from a tokenizer's added tokens
/// (so multilingual and English-only vocabularies both work).
public struct WhisperSpecialTokens: Sendable, Equatable {
    public let endOfText: Int
    public let startOfTranscript: Int
    public let transcribe: Int
    public let translate: Int
    public let noTimestamps: Int
    /// `<|nospeech|>` in newer vocabularies, `<|nocaptions|>` in older ones.
    public let noSpeech: Int?
    public let startOfPrevious: Int?
    /// Language code ("en", "de", "yue" ...) -> id of `<|code|>`, in vocabulary order.
    public let languages: [String: Int]
    /// Language codes by ascending token id (the order Whisper's language detection uses).
    public let languageCodes: [String]
    /// First timestamp token `<|0.00|>`: the id after `<|notimestamps|>` (timestamps are
    /// not listed in tokenizer.json).
    public var timestampBegin: Int { noTimestamps + 1 }

    /// - Throws: `TokenizerError.invalid` naming the first missing control token.
    public init(_ tokenizer: BPETokenizer, path: String = "tokenizer.json") throws(TokenizerError) {
        func need(_ t: String) throws(TokenizerError) -> Int {
            guard let id = tokenizer.addedTokens[t] else {
                throw .invalid(path: path, detail: "missing Whisper control token \(t)")
            }
            return id
        }
        endOfText = try need("<|endoftext|>")
        startOfTranscript = try need("<|startoftranscript|>")
        transcribe = try need("<|transcribe|>")
        translate = try need("<|translate|>")
        noTimestamps = try need("<|notimestamps|>")
        noSpeech = tokenizer.addedTokens["<|nospeech|>"] ?? tokenizer.addedTokens["<|nocaptions|>"]
        startOfPrevious = tokenizer.addedTokens["<|startofprev|>"]
        // Language tokens are the added tokens spelled <|xx|> or <|xxx|> in lowercase letters;
        // every other control token has a longer name.
        var langs: [String: Int] = [:]
        for (content, id) in tokenizer.addedTokens where content.hasPrefix("<|") && content.hasSuffix("|>") {
            let code = content.dropFirst(2).dropLast(2)
            if (2...3).contains(code.count) && code.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) }) {
                langs[String(code)] = id
            }
        }
        languages = langs
        languageCodes = langs.sorted { $0.value < $1.value }.map(\.key)
    }

    /// The decoder prompt `<|startoftranscript|> [<|lang|>] <|transcribe|> <|notimestamps|>`.
    /// - Returns: nil if `language` is not in the vocabulary.
    public func prompt(language: String?, task: Int? = nil, timestamps: Bool = false) -> [Int]? {
        var ids = [startOfTranscript]
        if let language {
            guard let id = languages[language] else { return nil }
            ids.append(id)
        }
        ids.append(task ?? transcribe)
        if !timestamps { ids.append(noTimestamps) }
        return ids
    }
}

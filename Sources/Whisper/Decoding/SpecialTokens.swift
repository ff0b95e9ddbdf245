import Foundation

/// Whisper's special token ids, read from `tokenizer.json`'s `added_tokens` (never hard-coded,
/// so English-only and large-v3 vocabularies work too).
public struct SpecialTokens: Sendable, Equatable {
    /// `<|endoftext|>`: end of transcript.
    public let eot: Int
    /// `<|startoftranscript|>`.
    public let sot: Int
    public let transcribe: Int
    public let translate: Int
    public let noTimestamps: Int
    /// `<|nospeech|>` (newer vocabularies) or `<|nocaptions|>` (older ones, whisper-base).
    public let noSpeech: Int
    /// First timestamp token `<|0.00|>`: the id after `<|notimestamps|>` when absent.
    public let timestampBegin: Int
    /// Language codes in Whisper's order (the order of their token ids), e.g. "en", "zh", "de".
    public let languages: [String]
    /// code -> token id, e.g. "de" -> 50261 in the multilingual vocabulary.
    public let languageIDs: [String: Int]

    /// Parses `tokenizer.json` bytes.
    public init(tokenizerJSON: [UInt8]) throws(DecodingError) {
        struct Added: Decodable { let id: Int; let content: String }
        struct File: Decodable { let added_tokens: [Added] }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: Data(tokenizerJSON)) }
        catch { throw .tokenizer("tokenizer.json has no readable added_tokens list (\(error))") }
        var byName = [String: Int]()
        for t in file.added_tokens { byName[t.content] = t.id }
        func need(_ n: String) throws(DecodingError) -> Int {
            guard let id = byName[n] else { throw .tokenizer("tokenizer.json lacks special token \(n)") }
            return id
        }
        eot = try need("<|endoftext|>")
        sot = try need("<|startoftranscript|>")
        transcribe = try need("<|transcribe|>")
        translate = try need("<|translate|>")
        noTimestamps = try need("<|notimestamps|>")
        guard let ns = byName["<|nospeech|>"] ?? byName["<|nocaptions|>"] else {
            throw .tokenizer("tokenizer.json lacks <|nospeech|> / <|nocaptions|>")
        }
        noSpeech = ns
        timestampBegin = byName["<|0.00|>"] ?? noTimestamps + 1
        // Language tokens sit between <|startoftranscript|> and <|translate|>: <|xx|> or <|haw|>.
        let (lo, hi) = (sot, translate)
        let langs = file.added_tokens
            .filter { $0.id > lo && $0.id < hi && $0.content.hasPrefix("<|") && $0.content.hasSuffix("|>") }
            .sorted { $0.id < $1.id }
        let codes = langs.map { String($0.content.dropFirst(2).dropLast(2)) }
        languages = codes
        languageIDs = Dictionary(uniqueKeysWithValues: zip(codes, langs.map(\.id)))
    }

    /// Whether the vocabulary has language tokens (multilingual model).
    public var isMultilingual: Bool { !languages.isEmpty }

    /// Token id of a language code; throws a typed error listing valid codes.
    public func languageToken(_ code: String) throws(DecodingError) -> Int {
        guard let id = languageIDs[code.lowercased()] else { throw .unknownLanguage(code, known: languages) }
        return id
    }

    /// The decoder prompt: SOT, language (multilingual models), task, notimestamps.
    public func prompt(language: String?, task: Task = .transcribe) throws(DecodingError) -> [Int] {
        var p = [sot]
        if let language, isMultilingual { p.append(try languageToken(language)) }
        if isMultilingual { p.append(task == .transcribe ? transcribe : translate) }
        p.append(noTimestamps)
        return p
    }

    public enum Task: String, Sendable, Codable { case transcribe, translate }
}

/// Errors from decoding (search, prompts, special tokens).
public enum DecodingError: Error, CustomStringConvertible, Equatable {
    case tokenizer(String)
    case unknownLanguage(String, known: [String])
    case model(WhisperModelError)
    case invalidOption(String)
    /// The model produced NaN or +inf logits: its weights or an adapter's are damaged.
    case nonFiniteLogits(step: Int)

    public var description: String {
        switch self {
        case .tokenizer(let m): return m
        case .unknownLanguage(let c, let known):
            return "unknown language code '\(c)'; this model knows: \(known.joined(separator: ", "))"
        case .model(let e): return e.description
        case .invalidOption(let m): return "invalid decoding option: \(m)"
        case .nonFiniteLogits(let step):
            return "the model produced NaN or infinite scores at decoding step \(step): its weights or an adapter's contain NaN/inf; "
                + "run glossa verify, and re-import or re-train the adapter"
        }
    }
}

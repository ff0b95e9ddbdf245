import Foundation
import GlossaCore

/// Whisper's vocabulary as CTranslate2 wants it (`vocabulary.json`: the token string of
/// every id, in id order), derived from a Hugging Face `tokenizer.json`.
///
///     ids 0 ..< n         model.vocab (token -> id) and added_tokens ({id, content}), no gaps
///     ids n ..< vocabSize "<|0.00|>", "<|0.02|>", ... (timestamps every 20 ms), which the
///                         multilingual tokenizer.json leaves out but the model has rows for
///
/// The same rule as ctranslate2's Whisper converter, so the list equals the
/// `vocabulary.txt` shipped with whisper-base's CTranslate2 conversion line for line.
public enum WhisperVocabulary {
    /// Language tokens are the added `<|xx|>` tokens other than these (ctranslate2's list).
    static let nonLanguageSpecials: Set<String> = [
        "<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
        "<|startofprev|>", "<|nocaptions|>", "<|nospeech|>", "<|notimestamps|>",
    ]

    /// Token strings for ids `0 ..< vocabSize`; `path` names the tokenizer in errors.
    public static func tokens(tokenizerJSON: [UInt8], vocabSize: Int, path: String) throws(TensorIOError) -> [String] {
        let (byID, _) = try parse(tokenizerJSON, path: path)
        let n = byID.count
        guard n <= vocabSize else {
            throw .checkpoint(path: path, key: "model.vocab", message: "\(n) tokens but the model has only \(vocabSize) embedding rows")
        }
        var out = [String]()
        out.reserveCapacity(vocabSize)
        for id in 0 ..< n {
            guard let t = byID[id] else {
                throw .checkpoint(path: path, key: "model.vocab", message: "no token has id \(id) (ids must run 0..<\(n) without gaps)")
            }
            out.append(t)
        }
        for i in 0 ..< vocabSize - n {
            // "%.2f" of i * 0.02 s, computed exactly in hundredths.
            let hundredths = 2 * i
            out.append("<|\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)|>")
        }
        return out
    }

    /// Ids of the language tokens (`<|en|>`, `<|fr|>` ...), ascending.
    public static func languageTokenIDs(tokenizerJSON: [UInt8], path: String) throws(TensorIOError) -> [Int] {
        try languageTokens(tokenizerJSON: tokenizerJSON, path: path).map(\.id)
    }

    /// The language tokens (`<|en|>` ...) with their ids, by ascending id.
    public static func languageTokens(tokenizerJSON: [UInt8], path: String) throws(TensorIOError) -> [(id: Int, token: String)] {
        let (_, added) = try parse(tokenizerJSON, path: path)
        return added.filter { id, content in
            content.hasPrefix("<|") && content.hasSuffix("|>") && !nonLanguageSpecials.contains(content)
                && content.dropFirst(2).dropLast(2).allSatisfy { $0.isLetter || $0 == "-" }
        }.map { (id: $0.0, token: $0.1) }.sorted { $0.id < $1.id }
    }

    /// (id -> token for vocab and added tokens, added tokens as (id, content)).
    private static func parse(_ json: [UInt8], path: String) throws(TensorIOError) -> ([Int: String], [(Int, String)]) {
        let root: [String: JSONValue]
        do {
            guard let o = try JSONValue.parse(Data(json)).object else {
                throw TensorIOError.checkpoint(path: path, key: nil, message: "top level is not a JSON object")
            }
            root = o
        } catch let e as TensorIOError { throw e } catch {
            throw .checkpoint(path: path, key: nil, message: "not valid JSON (\(error))")
        }
        guard let vocab = root["model"]?.object?["vocab"]?.object else {
            throw .checkpoint(path: path, key: "model.vocab", message: "missing object (expected a BPE tokenizer.json)")
        }
        var byID = [Int: String]()
        for (token, v) in vocab {
            guard let id = v.integer, id >= 0 else {
                throw .checkpoint(path: path, key: "model.vocab", message: "token '\(token)' has no non-negative integer id")
            }
            guard byID[id] == nil || byID[id] == token else {
                throw .checkpoint(path: path, key: "model.vocab", message: "id \(id) is given to two tokens")
            }
            byID[id] = token
        }
        var added = [(Int, String)]()
        for entry in root["added_tokens"]?.array ?? [] {
            guard let o = entry.object, let id = o["id"]?.integer, id >= 0, let content = o["content"]?.string else {
                throw .checkpoint(path: path, key: "added_tokens", message: "every entry needs an integer 'id' and a string 'content'")
            }
            guard byID[id] == nil || byID[id] == content else {
                throw .checkpoint(path: path, key: "added_tokens", message: "id \(id) is '\(byID[id]!)' in the vocab but '\(content)' here")
            }
            byID[id] = content
            added.append((id, content))
        }
        return (byID, added)
    }
}

import Foundation
import Synchronization

/// Byte-level BPE tokenizer loaded from a Hugging Face `tokenizer.json` (GPT-2 style,
/// as Whisper's), giving the same ids as the `tokenizers` library.
///
/// Encoding: added tokens (`<|en|>`, `<|endoftext|>` ...) are cut out of the text first
/// (leftmost, longest), the rest goes through the GPT-2 pre-tokenizer, each piece's
/// UTF-8 bytes become byte tokens, and merges apply lowest rank first. No special tokens
/// are added around the text (like `encode(text, add_special_tokens=False)`); the
/// decoder prompt is the runtime's business.
///
/// Decoding concatenates the tokens' bytes and decodes UTF-8 once at the end, so a
/// character split across tokens comes out whole; invalid bytes become U+FFFD. Ids
/// outside the vocabulary (e.g. Whisper timestamps >= 50364, which tokenizer.json lacks)
/// are skipped.
///
/// Immutable apart from an internal piece cache behind a mutex: share one instance.
public final class BPETokenizer: Sendable {
    /// Token spelled in byte-level characters (or an added token's content), by id.
    public let tokens: [String]
    /// Id of a token spelling.
    public let vocabulary: [String: Int]
    /// Added tokens, content -> id.
    public let addedTokens: [String: Int]
    /// Ids of added tokens flagged `special` (skipped by `decode(skipSpecial: true)`).
    public let specialIds: Set<Int>

    /// Id of the byte-level token for each byte.
    private let byteIds: [Int32]
    /// Merge (left id, right id) packed as left << 32 | right -> (rank, merged id).
    private let merges: [UInt64: (rank: Int32, merged: Int32)]
    /// Added tokens grouped by first scalar, longest first.
    private let addedByFirst: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int)]]
    private let cache = Mutex<[String: [Int]]>([:])
    private static let cacheLimit = 200_000

    public var vocabularySize: Int { tokens.count }

    /// Loads `tokenizer.json` from a file.
    public convenience init(contentsOf path: String) throws(TokenizerError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, detail: error.localizedDescription)
        }
        try self.init(json: data, path: path)
    }

    /// Parses `tokenizer.json` bytes; `path` only labels errors.
    public init(json: Data, path: String = "tokenizer.json") throws(TokenizerError) {
        let file: TokenizerFile
        do { file = try JSONDecoder().decode(TokenizerFile.self, from: json) } catch {
            throw .invalid(path: path, detail: "\(error)")
        }
        guard file.model.type == "BPE" else { throw .invalid(path: path, detail: "model.type is \(file.model.type), not BPE") }
        if let pre = file.pre_tokenizer, pre.type != "ByteLevel" {
            throw .invalid(path: path, detail: "pre_tokenizer is \(pre.type), only ByteLevel is supported")
        }
        var vocab = file.model.vocab
        for a in file.added_tokens ?? [] { vocab[a.content] = a.id }
        let size = (vocab.values.max() ?? -1) + 1
        var tokens = [String](repeating: "", count: size)
        for (t, id) in vocab {
            guard id >= 0 else { throw .invalid(path: path, detail: "negative id \(id) for \(t)") }
            tokens[id] = t
        }
        var byteIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            guard let id = file.model.vocab[String(ByteLevel.scalars[b])] else {
                throw .invalid(path: path, detail: "vocab lacks the byte token for 0x\(String(b, radix: 16))")
            }
            byteIds[b] = Int32(id)
        }
        var merges: [UInt64: (rank: Int32, merged: Int32)] = [:]
        merges.reserveCapacity(file.model.merges.count)
        for (rank, pair) in file.model.merges.enumerated() {
            guard let l = file.model.vocab[pair.left], let r = file.model.vocab[pair.right],
                  let m = file.model.vocab[pair.left + pair.right] else {
                throw .invalid(path: path, detail: "merge \(rank) '\(pair.left) \(pair.right)' names a token not in vocab")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = (Int32(rank), Int32(m)) }
        }
        var byFirst: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int)]] = [:]
        var added: [String: Int] = [:]
        var special = Set<Int>()
        for a in file.added_tokens ?? [] where !a.content.isEmpty {
            let s = Array(a.content.unicodeScalars)
            byFirst[s[0], default: []].append((s, a.id))
            added[a.content] = a.id
            if a.special { special.insert(a.id) }
        }
        for k in byFirst.keys { byFirst[k]!.sort { $0.scalars.count > $1.scalars.count } }
        self.tokens = tokens
        self.vocabulary = vocab
        self.addedTokens = added
        self.specialIds = special
        self.byteIds = byteIds
        self.merges = merges
        self.addedByFirst = byFirst
    }

    /// Id of a token spelling or added token (e.g. "<|fr|>"), if present.
    public func id(of token: String) -> Int? { vocabulary[token] }

    // MARK: Encoding

    /// Token ids of `text`, without any prompt or end-of-text tokens.
    public func encode(_ text: String) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        var out: [Int] = []
        out.reserveCapacity(scalars.count / 3 + 4)
        var segmentStart = 0
        var i = 0
        while i < scalars.count {
            if let candidates = addedByFirst[scalars[i]],
               let hit = candidates.first(where: { c in
                   i + c.scalars.count <= scalars.count && scalars[i..<(i + c.scalars.count)].elementsEqual(c.scalars)
               }) {
                encodeOrdinary(scalars[segmentStart..<i], into: &out)
                out.append(hit.id)
                i += hit.scalars.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        encodeOrdinary(scalars[segmentStart..<scalars.count], into: &out)
        return out
    }

    private func encodeOrdinary(_ scalars: ArraySlice<Unicode.Scalar>, into out: inout [Int]) {
        if scalars.isEmpty { return }
        let array = Array(scalars)
        for piece in PreTokenizer.split(array) {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: array[piece])
            let text = String(s)
            if let hit = cache.withLock({ $0[text] }) {
                out.append(contentsOf: hit)
                continue
            }
            let ids = bpe(Array(text.utf8))
            cache.withLock { c in
                if c.count >= Self.cacheLimit { c.removeAll(keepingCapacity: true) }
                c[text] = ids
            }
            out.append(contentsOf: ids)
        }
    }

    /// Merges one piece's byte tokens, lowest rank first; all occurrences of the chosen
    /// pair are merged left to right (GPT-2's rule, equal to HF's rank-then-position queue).
    private func bpe(_ bytes: [UInt8]) -> [Int] {
        var word = bytes.map { byteIds[Int($0)] }
        while word.count > 1 {
            var bestRank = Int32.max
            var bestMerged: Int32 = -1
            var bestLeft: Int32 = -1, bestRight: Int32 = -1
            for j in 0..<(word.count - 1) {
                let key = UInt64(UInt32(word[j])) << 32 | UInt64(UInt32(word[j + 1]))
                if let m = merges[key], m.rank < bestRank {
                    bestRank = m.rank; bestMerged = m.merged; bestLeft = word[j]; bestRight = word[j + 1]
                }
            }
            if bestMerged < 0 { break }
            var merged: [Int32] = []
            merged.reserveCapacity(word.count)
            var j = 0
            while j < word.count {
                if j + 1 < word.count && word[j] == bestLeft && word[j + 1] == bestRight {
                    merged.append(bestMerged); j += 2
                } else {
                    merged.append(word[j]); j += 1
                }
            }
            word = merged
        }
        return word.map(Int.init)
    }

    // MARK: Decoding

    /// Raw bytes of the tokens (UTF-8 possibly split at the ends).
    public func decodeBytes(_ ids: [Int], skipSpecial: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids {
            guard id >= 0 && id < tokens.count else { continue }
            if skipSpecial && specialIds.contains(id) { continue }
            ByteLevel.decode(tokens[id], into: &bytes)
        }
        return bytes
    }

    /// Text of the tokens; with `skipSpecial`, special added tokens are left out.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }
}

/// The parts of Hugging Face's tokenizer.json that byte-level BPE needs.
struct TokenizerFile: Decodable {
    struct Added: Decodable { let id: Int; let content: String; let special: Bool }
    struct Pre: Decodable { let type: String }
    struct Merge: Decodable {
        let left: String, right: String
        /// Older files spell a merge "a b"; newer ones ["a", "b"].
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                let parts = s.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw Swift.DecodingError.dataCorruptedError(in: c, debugDescription: "merge '\(s)' is not two tokens")
                }
                left = String(parts[0]); right = String(parts[1])
            } else {
                let pair = try c.decode([String].self)
                guard pair.count == 2 else {
                    throw Swift.DecodingError.dataCorruptedError(in: c, debugDescription: "merge \(pair) is not two tokens")
                }
                left = pair[0]; right = pair[1]
            }
        }
    }
    struct Model: Decodable { let type: String; let vocab: [String: Int]; let merges: [Merge] }
    let added_tokens: [Added]?
    let pre_tokenizer: Pre?
    let model: Model
}

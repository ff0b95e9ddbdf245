import Foundation

/// One utterance of an evaluation or training set: a line of a JSONL manifest,
/// `{"id": "fr-0001", "audio": "audio/fr-0001.wav", "text": "Bonjour.", "lang": "fr"}`.
/// `audio` is relative to the manifest's folder. The optional `speaker` names who speaks
/// (an espeak-ng voice such as `"fr-fr+m3"`, or a corpus's own speaker label), so that
/// splits can be checked to share no speaker; it is omitted from the JSON when nil.
public struct ManifestEntry: Codable, Sendable, Equatable, Hashable {
    public var id: String
    public var audio: String
    public var text: String
    public var lang: String
    public var speaker: String?

    public init(id: String, audio: String, text: String, lang: String, speaker: String? = nil) {
        self.id = id
        self.audio = audio
        self.text = text
        self.lang = lang
        self.speaker = speaker
    }

    /// Path of the audio file for a manifest at `manifestPath` (pure string work, no I/O).
    public func audioPath(manifestPath: String) -> String {
        let dir = (manifestPath as NSString).deletingLastPathComponent
        return dir.isEmpty ? audio : (dir as NSString).appendingPathComponent(audio)
    }

    /// Checks the fields; the message says which one is wrong and why.
    public func validate() throws(ManifestFieldError) {
        if id.isEmpty { throw ManifestFieldError("id is empty") }
        if id.contains(where: { $0.isNewline }) { throw ManifestFieldError("id contains a line break") }
        if audio.isEmpty { throw ManifestFieldError("audio is empty") }
        if audio.hasPrefix("/") { throw ManifestFieldError("audio '\(audio)' is absolute; it must be relative to the manifest") }
        if audio.split(separator: "/").contains("..") {
            throw ManifestFieldError("audio '\(audio)' leaves the manifest's folder ('..')")
        }
        let validLang = (2...3).contains(lang.count) && lang.unicodeScalars.allSatisfy { ("a"..."z").contains($0) }
        if !validLang { throw ManifestFieldError("lang '\(lang)' is not a 2-3 letter lowercase code (e.g. 'fr', 'yue')") }
        if let speaker, speaker.isEmpty || speaker.contains(where: { $0.isNewline }) {
            throw ManifestFieldError("speaker '\(speaker)' must be a non-empty label on one line; leave the field out when unknown")
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        audio = try c.decode(String.self, forKey: .audio)
        text = try c.decode(String.self, forKey: .text)
        lang = try c.decode(String.self, forKey: .lang)
        speaker = try c.decodeIfPresent(String.self, forKey: .speaker)
        try validate()
    }
}

/// A field-level problem in one manifest entry.
public struct ManifestFieldError: Error, Sendable, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
}

/// A manifest that could not be read; `line` is 1-based.
public enum ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidLine(source: String, line: Int, detail: String)
    case duplicateID(source: String, line: Int, id: String, firstLine: Int)
    case empty(source: String)

    public var description: String {
        switch self {
        case .invalidLine(let s, let l, let d):
            return "\(s):\(l): \(d) (each line must be {\"id\",\"audio\",\"text\",\"lang\"}, optionally \"speaker\")"
        case .duplicateID(let s, let l, let id, let first):
            return "\(s):\(l): id '\(id)' already used on line \(first); ids must be unique"
        case .empty(let s):
            return "\(s): the manifest has no entries"
        }
    }
}

/// JSONL manifests: one `ManifestEntry` per line; blank lines are ignored.
public enum Manifest {
    /// Parses and validates JSONL bytes. `source` (usually the path) labels errors.
    public static func parse(_ data: Data, source: String) throws(ManifestError) -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        var seen: [String: Int] = [:]
        let decoder = JSONDecoder()
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let entry: ManifestEntry
            do { entry = try decoder.decode(ManifestEntry.self, from: Data(trimmed)) } catch {
                throw .invalidLine(source: source, line: lineNumber, detail: describe(error))
            }
            if let first = seen[entry.id] {
                throw .duplicateID(source: source, line: lineNumber, id: entry.id, firstLine: first)
            }
            seen[entry.id] = lineNumber
            entries.append(entry)
        }
        if entries.isEmpty { throw .empty(source: source) }
        return entries
    }

    /// JSONL bytes, one entry per line with keys in a fixed order, ending in a newline.
    public static func encode(_ entries: [ManifestEntry]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        for e in entries {
            // Encoding four or five strings cannot fail.
            out.append(try! encoder.encode(e))
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx): return "field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.valueNotFound(_, let ctx): return "field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' is null"
        case let e as ManifestFieldError: return e.message
        case DecodingError.dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : ctx.debugDescription
        default: return "\(error)"
        }
    }
}

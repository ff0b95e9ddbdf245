/// Why a `tokenizer.json` could not be loaded.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is missing or unreadable.
    case unreadable(path: String, detail: String)
    /// The JSON is not a byte-level BPE tokenizer we understand.
    case invalid(path: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let d):
            return "Cannot read tokenizer \(p): \(d) (a Whisper model folder holds tokenizer.json; run scripts/fetch-whisper-base.sh)"
        case .invalid(let p, let d):
            return "Invalid tokenizer \(p): \(d) (expected a Hugging Face byte-level BPE tokenizer.json)"
        }
    }
}

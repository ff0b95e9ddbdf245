import Whisper

/// Adapts the BPE tokenizer to the decoder's `TokenTextDecoding` (special tokens skipped).
struct TokenizerText: TokenTextDecoding {
    let tokenizer: BPETokenizer
    func decodeText(_ tokens: [Int]) -> String { tokenizer.decode(tokens, skipSpecial: true) }
}

/// Turns generated token ids into text (the BPE tokenizer implements it). The decoder needs
/// text only for the compression-ratio check of temperature fallback and for results.
public protocol TokenTextDecoding: Sendable {
    /// Text of `tokens` (special tokens skipped).
    func decodeText(_ tokens: [Int]) -> String
}

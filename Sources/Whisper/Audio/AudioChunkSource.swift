/// Something that yields 16 kHz mono audio in chunks: a file (`AudioReader`) or samples
/// already in memory (`SampleBufferSource`), so the transcriber can take either.
public protocol AudioChunkSource: AnyObject {
    /// The next chunk (at most the source's chunk size, never empty), or nil at the end.
    func nextChunk() throws(AudioError) -> [Float]?
}

extension AudioReader: AudioChunkSource {}

/// Serves in-memory 16 kHz mono samples in chunks (default one 30 s window).
public final class SampleBufferSource: AudioChunkSource {
    private let samples: [Float]
    private let chunkSamples: Int
    private var position = 0

    public init(samples: [Float], chunkSamples: Int = AudioReader.windowSamples) {
        precondition(chunkSamples > 0, "chunkSamples must be positive")
        self.samples = samples
        self.chunkSamples = chunkSamples
    }

    public func nextChunk() throws(AudioError) -> [Float]? {
        guard position < samples.count else { return nil }
        let end = min(position + chunkSamples, samples.count)
        defer { position = end }
        return Array(samples[position..<end])
    }
}

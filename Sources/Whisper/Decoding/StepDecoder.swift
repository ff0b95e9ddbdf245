import Tensor

/// One decoder step for a set of hypotheses: the seam between search and model, so search
/// strategies are testable with a scripted fake.
public protocol StepDecoder {
    var vocabSize: Int { get }
    /// Feeds one token per beam and returns next-token logits [beams, vocab].
    mutating func step(_ tokens: [Int]) throws(DecodingError) -> [Float]
    /// New beam i continues old beam `from[i]` (also fans one beam out to many).
    mutating func selectBeams(_ from: [Int])
}

/// The real `StepDecoder`: a model, its per-audio state and the adapters of this run.
public struct WhisperStepDecoder: StepDecoder {
    public let model: WhisperModel
    public var state: DecoderState
    public let compute: Compute
    public let adapters: ActiveAdapters
    /// When set, steps run in this group's batched rounds (the caller participates).
    public let batcher: DecodeBatcher?

    public init(model: WhisperModel, state: DecoderState, compute: Compute, adapters: ActiveAdapters = .none,
                batcher: DecodeBatcher? = nil) {
        self.model = model; self.state = state; self.compute = compute; self.adapters = adapters; self.batcher = batcher
    }

    private mutating func run(_ tokens: [Int], perBeam: Int) throws(DecodingError) -> [Float] {
        do {
            if let batcher { return try batcher.decode(tokens: tokens, tokensPerBeam: perBeam, state: &state, adapters: adapters) }
            return try model.decode(tokens: tokens, tokensPerBeam: perBeam, state: &state, compute: compute, adapters: adapters)
        } catch { throw .model(error) }
    }

    public var vocabSize: Int { model.vocabSize }

    /// Feeds a prompt to the single beam; returns logits for every prompt position [T, vocab].
    public mutating func prefill(_ prompt: [Int]) throws(DecodingError) -> [Float] {
        precondition(state.beams == 1, "prefill runs before beams fan out")
        return try run(prompt, perBeam: prompt.count)
    }

    public mutating func step(_ tokens: [Int]) throws(DecodingError) -> [Float] { try run(tokens, perBeam: 1) }

    public mutating func selectBeams(_ from: [Int]) { state.selectBeams(from) }
}

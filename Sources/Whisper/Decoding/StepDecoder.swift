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

    public init(model: WhisperModel, state: DecoderState, compute: Compute, adapters: ActiveAdapters = .none) {
        self.model = model; self.state = state; self.compute = compute; self.adapters = adapters
    }

    public var vocabSize: Int { model.vocabSize }

    /// Feeds a prompt to the single beam; returns logits for every prompt position [T, vocab].
    public mutating func prefill(_ prompt: [Int]) throws(DecodingError) -> [Float] {
        precondition(state.beams == 1, "prefill runs before beams fan out")
        do { return try model.decode(tokens: prompt, tokensPerBeam: prompt.count, state: &state, compute: compute, adapters: adapters) }
        catch { throw .model(error) }
    }

    public mutating func step(_ tokens: [Int]) throws(DecodingError) -> [Float] {
        do { return try model.decode(tokens: tokens, tokensPerBeam: 1, state: &state, compute: compute, adapters: adapters) }
        catch { throw .model(error) }
    }

    public mutating func selectBeams(_ from: [Int]) { state.selectBeams(from) }
}

import Foundation
import Tensor

/// Decodes several utterances together: each runs its own search (greedy, beam, sampling,
/// temperature fallback) on its own thread, and every decoder step they ask for is gathered
/// into one `WhisperModel.decodeBatch` pass, so the decoder's weights and the 51,865-row
/// output projection are read once per step for the whole group instead of once per
/// utterance (matrix-matrix instead of matrix-vector products).
///
/// Protocol: a thread `join`s before its first step and `leave`s after its last; a round
/// runs as soon as every joined thread has submitted a step (the last one to submit, or to
/// leave, runs it while the others wait). A thread that is not joined (encoding its audio,
/// say) holds nobody up. Results are what each utterance gets decoded alone, up to float
/// rounding of the batched products.
public final class DecodeBatcher: @unchecked Sendable {
    public let model: WhisperModel
    public let compute: Compute
    private let condition = NSCondition()
    private var joined = 0
    private var pending: [Pending] = []
    private var results: [Int: Result<[Float], WhisperModelError>] = [:]
    private var nextTicket = 0
    /// Rounds run and rows decoded (for reports and tests).
    public private(set) var rounds = 0
    public private(set) var requests = 0

    /// A submitted step: the submitter's state stays valid while it waits for its result.
    private struct Pending {
        var ticket: Int
        var request: DecodeRequest
        var state: UnsafeMutablePointer<DecoderState>
    }

    public init(model: WhisperModel, compute: Compute) { self.model = model; self.compute = compute }

    /// Runs `body` as a member of the group (join before, leave after, even on error).
    public func participate<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        condition.lock(); joined += 1; condition.unlock()
        defer {
            condition.lock()
            joined -= 1
            if !pending.isEmpty && pending.count >= joined { runRound() }
            condition.unlock()
        }
        return try body()
    }

    /// Feeds `tokens` ([beams, tokensPerBeam]) to `state` in the next round; blocks until it ran.
    func decode(tokens: [Int], tokensPerBeam: Int, state: inout DecoderState,
                adapters: ActiveAdapters) throws(WhisperModelError) -> [Float] {
        let result = withUnsafeMutablePointer(to: &state) { p -> Result<[Float], WhisperModelError> in
            condition.lock()
            defer { condition.unlock() }
            precondition(joined > 0, "DecodeBatcher.decode outside participate")
            let ticket = nextTicket
            nextTicket += 1
            pending.append(Pending(ticket: ticket, request: DecodeRequest(tokens: tokens, tokensPerBeam: tokensPerBeam, adapters: adapters),
                                   state: p))
            if pending.count >= joined { runRound() }
            while results[ticket] == nil { condition.wait() }
            return results.removeValue(forKey: ticket)!
        }
        return try result.get()
    }

    /// Runs every pending step as one batch (lock held) and wakes the waiters. A run whose
    /// cache would overflow gets its error alone; the others still run.
    private func runRound() {
        let round = pending
        pending = []
        var ok: [Pending] = []
        for p in round {
            let length = p.state.pointee.length + p.request.tokensPerBeam
            if length > model.config.maxTargetPositions {
                results[p.ticket] = .failure(.sequenceTooLong(length: length, max: model.config.maxTargetPositions))
            } else {
                ok.append(p)
            }
        }
        if !ok.isEmpty {
            do {
                let logits = try model.decodeBatch(ok.map(\.request), states: ok.map(\.state), compute: compute)
                for (p, l) in zip(ok, logits) { results[p.ticket] = .success(l) }
            } catch {
                for p in ok { results[p.ticket] = .failure(error) }
            }
            rounds += 1
            requests += ok.count
        }
        condition.broadcast()
    }
}

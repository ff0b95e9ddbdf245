import Foundation
import Tensor
import GlossaCore

/// Search settings shared by greedy, beam and sampling (semantics of CTranslate2's
/// `Whisper.generate`, which faster-whisper calls).
public struct SearchOptions: Sendable, Equatable {
    /// 1 = greedy (or sampling when `temperature` > 0).
    public var beamSize: Int = 5
    /// Beam search stops after round(beamSize * patience) finished hypotheses.
    public var patience: Double = 1
    /// Final score = sum log p / length^lengthPenalty (length without EOS).
    public var lengthPenalty: Double = 1
    /// Generated tokens at most (CTranslate2: min(448/2, 448 - prompt + 1) steps incl. EOS).
    public var maxSteps: Int = 224
    /// Ids never generated (the model config's suppress_ids).
    public var suppressTokens: [Int] = []
    /// Ids not allowed as the first generated token (suppress_blank: " " and EOT).
    public var suppressAtBegin: [Int] = []
    /// 0 = deterministic (greedy/beam); > 0 = sample from softmax(logits / T).
    public var temperature: Double = 0
    /// Independent samples when temperature > 0; the best by score wins.
    public var bestOf: Int = 5
    public var seed: UInt64 = 0

    public init() {}
}

/// One finished hypothesis.
public struct Hypothesis: Sendable, Equatable {
    /// Generated tokens, EOS excluded.
    public var tokens: [Int]
    /// Sum of log-probabilities of the generated tokens, EOS included.
    public var sumLogProb: Double
    /// `sumLogProb / length^lengthPenalty`: what CTranslate2 returns as `scores[0]`.
    public var score: Double
}

/// Greedy, beam search and sampling over any `StepDecoder`.
///
/// Per step and beam: logits of suppressed ids -> -inf (plus `suppressAtBegin` at step 0),
/// then log-softmax. Greedy takes the argmax; beam search follows CTranslate2's
/// `BeamSearch` (2*beam candidates per step, finished hypotheses replaced by the next
/// non-EOS candidate, stop after round(beam*patience) finished, length-normalised final
/// scores); sampling draws `bestOf` independent sequences side by side.
public enum Search {
    /// Runs the search whose first input token is `startToken` (the last prompt token,
    /// already fed) given the logits it produced (`firstLogits`, one row).
    public static func run<D: StepDecoder>(_ decoder: inout D, firstLogits: [Float], eot: Int,
                                           options: SearchOptions) throws(DecodingError) -> Hypothesis {
        if options.temperature > 0 { return try sample(&decoder, firstLogits: firstLogits, eot: eot, options: options) }
        if options.beamSize <= 1 { return try greedy(&decoder, firstLogits: firstLogits, eot: eot, options: options) }
        return try beam(&decoder, firstLogits: firstLogits, eot: eot, options: options)
    }

    /// Masks suppressed ids then converts one row to log-probabilities in place (f64 sum).
    /// Returns false when the row holds NaN or +inf (damaged weights): the callers stop
    /// with `DecodingError.nonFiniteLogits` instead of decoding garbage.
    @discardableResult
    static func logSoftmax(_ row: UnsafeMutableBufferPointer<Float>, suppress: [Int], suppressBegin: [Int]?) -> Bool {
        for id in suppress where id < row.count { row[id] = -.infinity }
        if let b = suppressBegin { for id in b where id < row.count { row[id] = -.infinity } }
        var m = -Float.infinity
        for v in row { m = max(m, v) }
        var s = 0.0
        for v in row { s += Double(FastMath.exp(v - m)) }
        let lse = m + Float(Foundation.log(s))
        for i in 0..<row.count { row[i] -= lse }
        return m.isFinite && s.isFinite
    }

    static func finalScore(_ sum: Double, length: Int, penalty: Double) -> Double {
        sum / Foundation.pow(Double(length), penalty)
    }

    // MARK: greedy

    static func greedy<D: StepDecoder>(_ decoder: inout D, firstLogits: [Float], eot: Int, options: SearchOptions) throws(DecodingError) -> Hypothesis {
        var logits = firstLogits
        var tokens = [Int](), sum = 0.0
        for step in 0..<options.maxSteps {
            var best = 0, bestLP = -Float.infinity, finite = true
            logits.withUnsafeMutableBufferPointer { row in
                finite = logSoftmax(row, suppress: options.suppressTokens, suppressBegin: step == 0 ? options.suppressAtBegin : nil)
                for i in 0..<row.count where row[i] > bestLP { bestLP = row[i]; best = i }
            }
            guard finite else { throw .nonFiniteLogits(step: step) }
            sum += Double(bestLP)
            if best == eot { break }
            tokens.append(best)
            if step + 1 == options.maxSteps { break }
            logits = try decoder.step([best])
        }
        return Hypothesis(tokens: tokens, sumLogProb: sum, score: finalScore(sum, length: tokens.count, penalty: options.lengthPenalty))
    }

    // MARK: beam search

    struct Candidate { var score: Float; var beam: Int; var token: Int }

    /// The `k` best (score, beam, token) over rows [beams, vocab] of cumulative log-probs.
    static func topK(_ rows: [Float], beams: Int, vocab: Int, k: Int) -> [Candidate] {
        var best = [Candidate]()
        best.reserveCapacity(k + 1)
        var floor = -Float.infinity
        rows.withUnsafeBufferPointer { p in
            for b in 0..<beams {
                for t in 0..<vocab {
                    let s = p[b * vocab + t]
                    if best.count == k && s <= floor { continue }
                    var i = best.count
                    while i > 0 && best[i - 1].score < s { i -= 1 }
                    best.insert(Candidate(score: s, beam: b, token: t), at: i)
                    if best.count > k { best.removeLast() }
                    if best.count == k { floor = best[k - 1].score }
                }
            }
        }
        return best
    }

    static func beam<D: StepDecoder>(_ decoder: inout D, firstLogits: [Float], eot: Int, options: SearchOptions) throws(DecodingError) -> Hypothesis {
        let width = options.beamSize, vocab = decoder.vocabSize
        let maxFinished = Int((Double(width) * options.patience).rounded())
        var alive: [[Int]] = [[]]             // token sequences of live beams (1 before expansion)
        var aliveScores: [Float] = [0]        // cumulative log-probs
        var finished = [Hypothesis]()
        var logits = firstLogits
        for step in 0..<options.maxSteps {
            let beams = alive.count
            // cumulative scores of every continuation
            var finite = true
            logits.withUnsafeMutableBufferPointer { all in
                for b in 0..<beams {
                    let row = UnsafeMutableBufferPointer(rebasing: all[(b * vocab)..<((b + 1) * vocab)])
                    let begin = step == 0 ? options.suppressAtBegin : nil
                    if !logSoftmax(row, suppress: options.suppressTokens, suppressBegin: begin) { finite = false }
                    for i in 0..<vocab { row[i] += aliveScores[b] }
                }
            }
            guard finite else { throw .nonFiniteLogits(step: step) }
            let candidates = topK(logits, beams: beams, vocab: vocab, k: 2 * width)
            let lastStep = step + 1 == options.maxSteps
            var nextAlive = [[Int]](), nextScores = [Float](), origins = [Int](), nextTokens = [Int]()
            var secondary = width
            for k in 0..<min(width, candidates.count) {
                var chosen = candidates[k]
                if chosen.token == eot || lastStep {
                    var seq = alive[chosen.beam]
                    if chosen.token != eot { seq.append(chosen.token) }
                    finished.append(Hypothesis(tokens: seq, sumLogProb: Double(chosen.score),
                                               score: finalScore(Double(chosen.score), length: seq.count, penalty: options.lengthPenalty)))
                    // replace the finished beam with the next non-EOS secondary candidate
                    var replaced = false
                    while secondary < candidates.count {
                        let c = candidates[secondary]; secondary += 1
                        if c.token != eot { chosen = c; replaced = true; break }
                    }
                    if !replaced { continue }
                }
                nextAlive.append(alive[chosen.beam] + [chosen.token])
                nextScores.append(chosen.score)
                origins.append(chosen.beam)
                nextTokens.append(chosen.token)
            }
            if lastStep || finished.count >= maxFinished || nextAlive.isEmpty { break }
            alive = nextAlive; aliveScores = nextScores
            decoder.selectBeams(origins)
            logits = try decoder.step(nextTokens)
        }
        guard let best = finished.max(by: { $0.score < $1.score }) else {
            return Hypothesis(tokens: [], sumLogProb: -.infinity, score: -.infinity)
        }
        return best
    }

    // MARK: sampling (temperature fallback)

    static func sample<D: StepDecoder>(_ decoder: inout D, firstLogits: [Float], eot: Int, options: SearchOptions) throws(DecodingError) -> Hypothesis {
        let n = max(1, options.bestOf), vocab = decoder.vocabSize
        // The seed is offset once, as the sampler always has been, so a seed gives the same samples.
        var rng = SeededGenerator(seed: options.seed &+ 0x9E37_79B9_7F4A_7C15)
        // Fan the single prompt beam out to n independent samples.
        var logits = [Float]()
        logits.reserveCapacity(n * vocab)
        for _ in 0..<n { logits += firstLogits }
        decoder.selectBeams(Array(repeating: 0, count: n))
        var seqs = [[Int]](repeating: [], count: n), sums = [Double](repeating: 0, count: n)
        var done = [Bool](repeating: false, count: n)
        let invT = Float(1 / options.temperature)
        for step in 0..<options.maxSteps {
            var next = [Int](repeating: eot, count: n)
            var finite = true
            logits.withUnsafeMutableBufferPointer { all in
                for b in 0..<n where !done[b] {
                    let row = UnsafeMutableBufferPointer(rebasing: all[(b * vocab)..<((b + 1) * vocab)])
                    if !logSoftmax(row, suppress: options.suppressTokens, suppressBegin: step == 0 ? options.suppressAtBegin : nil) {
                        finite = false
                        continue
                    }
                    // draw from softmax(logp / T) (= softmax(logits / T))
                    var m = -Float.infinity
                    for v in row { m = max(m, v * invT) }
                    var z = 0.0
                    for v in row { z += Foundation.exp(Double(v * invT - m)) }
                    var u = rng.unitDouble() * z, pick = vocab - 1
                    for i in 0..<vocab {
                        u -= Foundation.exp(Double(row[i] * invT - m))
                        if u <= 0 { pick = i; break }
                    }
                    if row[pick] == -.infinity { pick = eot }
                    sums[b] += Double(row[pick])
                    next[b] = pick
                    if pick == eot || step + 1 == options.maxSteps { done[b] = true; if pick != eot { seqs[b].append(pick) } }
                    else { seqs[b].append(pick) }
                }
            }
            guard finite else { throw .nonFiniteLogits(step: step) }
            if done.allSatisfy({ $0 }) { break }
            logits = try decoder.step(next)   // finished rows keep decoding EOT; their output is ignored
        }
        let hyps = (0..<n).map { Hypothesis(tokens: seqs[$0], sumLogProb: sums[$0],
                                             score: finalScore(sums[$0], length: seqs[$0].count, penalty: options.lengthPenalty)) }
        return hyps.max(by: { $0.score < $1.score })!
    }
}


import GlossaCore
import Tensor

/// Per-audio decoding state: cross-attention K/V (computed once from the encoder output
/// and shared by every beam) and the self-attention KV cache of each beam.
///
/// Kept apart from `WhisperModel` so one immutable model serves many runs.
public struct DecoderState: Sendable {
    /// Per layer: encoder_attn k and v of the encoder output, each head a block of its own:
    /// [2, heads, frames, headDim] (keys, then values). Every decoder step reads all of it,
    /// 37 MB for whisper-base; per head it is one contiguous run, which the cache
    /// prefetchers follow, where a [frames, 2d] row layout scatters a head over 1500 pages.
    let crossKV: [[Float]]
    let frames: Int
    /// Per layer self-attention keys and values, [beams, capacity, d].
    var selfK: [[Float]]
    var selfV: [[Float]]
    var capacity: Int
    /// Tokens already in the cache (the same for every beam).
    public private(set) var length: Int
    /// Hypotheses decoded side by side.
    public private(set) var beams: Int
    let dModel: Int

    init(crossKV: [[Float]], frames: Int, layers: Int, dModel: Int) {
        self.crossKV = crossKV; self.frames = frames; self.dModel = dModel
        capacity = 0; length = 0; beams = 1
        selfK = Array(repeating: [], count: layers); selfV = selfK
    }

    /// Makes room for `needed` positions per beam (doubling, so appends are amortised O(1)).
    mutating func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let newCap = max(needed, max(32, capacity * 2))
        let d = dModel
        for l in 0..<selfK.count {
            for which in 0..<2 {
                let old = which == 0 ? selfK[l] : selfV[l]
                var grown = [Float](repeating: 0, count: beams * newCap * d)
                if length > 0 {
                    for b in 0..<beams {
                        grown.withUnsafeMutableBufferPointer { g in old.withUnsafeBufferPointer { o in
                            (g.baseAddress! + b * newCap * d).update(from: o.baseAddress! + b * capacity * d, count: length * d)
                        } }
                    }
                }
                if which == 0 { selfK[l] = grown } else { selfV[l] = grown }
            }
        }
        capacity = newCap
    }

    /// Re-orders (and grows or shrinks) the beams: new beam i continues old beam `from[i]`.
    /// Used after each beam-search step and to fan the prompt out to all beams. Only the
    /// `length` cached rows of beams that change are copied (through a scratch copy of
    /// their sources), so a step with stable beams costs nothing.
    public mutating func selectBeams(_ from: [Int]) {
        precondition(from.allSatisfy { $0 >= 0 && $0 < beams }, "beam index out of range")
        if from == Array(0..<beams) { return }
        let d = dModel, len = length, rowsPerBeam = len * d
        if from.count > beams {
            // Grow storage to the new beam count first (same capacity, beams appended).
            for l in 0..<selfK.count {
                selfK[l] += [Float](repeating: 0, count: (from.count - beams) * capacity * d)
                selfV[l] += [Float](repeating: 0, count: (from.count - beams) * capacity * d)
            }
        }
        let sources = Array(Set(from.enumerated().filter { $0.offset != $0.element }.map(\.element))).sorted()
        let slot = Dictionary(uniqueKeysWithValues: sources.enumerated().map { ($0.element, $0.offset) })
        var scratch = [Float](repeating: 0, count: max(1, sources.count * rowsPerBeam))
        let cap = capacity
        func permute(_ cache: inout [Float]) {
            cache.withUnsafeMutableBufferPointer { c in scratch.withUnsafeMutableBufferPointer { s in
                for (k, src) in sources.enumerated() {
                    (s.baseAddress! + k * rowsPerBeam).update(from: c.baseAddress! + src * cap * d, count: rowsPerBeam)
                }
                for (i, src) in from.enumerated() where i != src {
                    (c.baseAddress! + i * cap * d).update(from: s.baseAddress! + slot[src]! * rowsPerBeam, count: rowsPerBeam)
                }
            } }
        }
        if len > 0 {
            for l in 0..<selfK.count { permute(&selfK[l]); permute(&selfV[l]) }
        }
        if from.count < beams {
            for l in 0..<selfK.count {
                selfK[l].removeLast((beams - from.count) * cap * d)
                selfV[l].removeLast((beams - from.count) * cap * d)
            }
        }
        beams = from.count
    }

    mutating func advance(by t: Int) { length += t }
}

extension WhisperModel {
    /// Starts decoding one audio window: computes cross-attention K/V for every decoder
    /// layer (`encoder_attn.{k,v}_proj` of the encoder output) once.
    public func makeDecoderState(encoderOutput e: EncoderOutput, compute c: Compute,
                                 adapters: ActiveAdapters = .none) -> DecoderState {
        let d = dModel, t = e.frames, heads = config.decoderAttentionHeads, hd = d / heads
        var kv = [[Float]]()
        e.data.withUnsafeBufferPointer { ep in
            withWorkspace([t * 2 * d]) { w in
                let rows = w[0]   // one layer's k|v projection [t, 2d], as the fused GEMM writes it
                for (i, layer) in decoderLayers.enumerated() {
                    layer.crossKV.apply(c, x: ep.baseAddress!, rows: t, y: rows, ldy: 2 * d)
                    for kind in [LinearSite.Kind.crossK, .crossV] {
                        adapters.apply(LinearSite(stack: .decoder, layer: i, kind: kind), c, x: ep.baseAddress!, rows: t, inFeatures: d,
                                       outFeatures: d, y: rows + WhisperModel.fusedRowOffset(kind, d: d), ldy: 2 * d)
                    }
                    // [t, (k|v, head, hd)] -> [(k|v, head), t, hd], 6 MB a layer for whisper-base:
                    // a fresh mapping per window, faulted in 2 MiB at a time (`HugePages`).
                    kv.append([Float](unsafeUninitializedCapacity: 2 * t * d) { out, count in
                        HugePages.advise(UnsafeMutableRawBufferPointer(out))
                        for block in 0..<(2 * heads) {
                            let dst = out.baseAddress! + block * t * hd, src = rows + block * hd
                            for f in 0..<t { (dst + f * hd).update(from: src + f * 2 * d, count: hd) }
                        }
                        count = 2 * t * d
                    })
                }
            }
        }
        return DecoderState(crossKV: kv, frames: t, layers: decoderLayers.count, dModel: d)
    }

    /// Runs the decoder on `tokensPerBeam` new tokens for each of `state.beams` beams,
    /// appending them to the KV cache.
    ///
    /// - tokens: [beams, tokensPerBeam] row-major.
    /// - Returns logits [beams * tokensPerBeam, vocab] (h · embed_tokens^T, tied projection).
    public func decode(tokens: [Int], tokensPerBeam tn: Int, state: inout DecoderState, compute c: Compute,
                       adapters: ActiveAdapters = .none) throws(WhisperModelError) -> [Float] {
        let request = DecodeRequest(tokens: tokens, tokensPerBeam: tn, adapters: adapters)
        let logits = try withUnsafeMutablePointer(to: &state) { (p) throws(WhisperModelError) -> [[Float]] in
            try decodeBatch([request], states: [p], compute: c)
        }
        return logits[0]
    }

    /// One decoder pass over several independent runs (different audio, lengths, beams and
    /// adapters): the linear layers and the output projection run once over all their rows
    /// (matrix-matrix products instead of one matrix-vector product per run, so the weights
    /// are read once per step, not once per run); attention runs per run and beam on its
    /// own caches. Each run's logits are those `decode` gives it alone, up to float
    /// rounding (a GEMM may sum in another order for another row count).
    ///
    /// - states: one per request, each a distinct state, valid for the call.
    /// - Returns per request logits [beams * tokensPerBeam, vocab].
    func decodeBatch(_ requests: [DecodeRequest], states: [UnsafeMutablePointer<DecoderState>],
                     compute c: Compute) throws(WhisperModelError) -> [[Float]] {
        precondition(requests.count == states.count, "decodeBatch: \(requests.count) requests for \(states.count) states")
        let d = dModel
        // Row offset of each run in the stacked [rows, d] activations.
        var offsets = [Int](), rows = 0, scoreRows = 1
        let heads = config.decoderAttentionHeads, hd = d / heads, ffn = config.decoderFFNDim
        for (r, p) in zip(requests, states) {
            let bn = p.pointee.beams, tn = r.tokensPerBeam, start = p.pointee.length
            precondition(r.tokens.count == bn * tn, "decode: \(r.tokens.count) tokens for \(bn) beams x \(tn)")
            guard start + tn <= config.maxTargetPositions else {
                throw .sequenceTooLong(length: start + tn, max: config.maxTargetPositions)
            }
            p.pointee.reserve(start + tn)
            offsets.append(rows)
            rows += bn * tn
            scoreRows = max(scoreRows, c.attentionScoreCount(tq: tn, tk: start + tn, heads: heads, headDim: hd, recordProbs: false),
                            c.attentionScoreCount(tq: bn * tn, tk: p.pointee.frames, heads: heads, headDim: hd, recordProbs: false))
        }
        let allPlain = requests.allSatisfy(\.adapters.isEmpty)

        var logits = uninitializedFloats(rows * vocabSize)   // written by the output projection

        // Every buffer is written before it is read: x by the embeddings, the rest by the
        // layer that produces it.
        withWorkspace([rows * d, rows * d, rows * 3 * d, rows * d, rows * ffn, scoreRows]) { w in
            let xp = w[0]   // residual stream [rows, d]
            let hp = w[1]   // normed input [rows, d]
            let qp = w[2]   // self q|k|v [rows, 3d], then cross q [rows, d]
            let ap = w[3]   // attention output [rows, d]
            let fp = w[4]   // fc1 output [rows, ffn]
            let sp = w[5]   // attention scores
            /// Each run's adapter on its own rows of `input` (ld = inFeatures) into `output`.
            func adapt(_ site: LinearSite, _ input: UnsafeMutablePointer<Float>, _ inF: Int, _ outF: Int,
                       _ output: UnsafeMutablePointer<Float>, ld: Int, column: Int = 0) {
                if allPlain { return }
                for (k, r) in requests.enumerated() where !r.adapters.isEmpty {
                    let n = states[k].pointee.beams * r.tokensPerBeam
                    r.adapters.apply(site, c, x: input + offsets[k] * inF, rows: n, inFeatures: inF, outFeatures: outF,
                                     y: output + offsets[k] * ld + column, ldy: ld)
                }
            }
            // token + learned position embeddings (each run from its own cache length)
            decoderPositions.withUnsafeBufferPointer { pp in
                for (k, r) in requests.enumerated() {
                    let start = states[k].pointee.length, tn = r.tokensPerBeam
                    for (i, tok) in r.tokens.enumerated() {
                        embedTokens.row(tok, plus: pp.baseAddress! + (start + i % tn) * d, into: xp + (offsets[k] + i) * d)
                    }
                }
            }
            for (i, layer) in decoderLayers.enumerated() {
                // masked self-attention with each run's KV cache
                layer.selfAttnNorm.apply(c, x: xp, rows: rows, out: hp)
                layer.selfQKV.apply(c, x: hp, rows: rows, y: qp, ldy: 3 * d)
                for kind in [LinearSite.Kind.selfQ, .selfK, .selfV] {
                    adapt(LinearSite(stack: .decoder, layer: i, kind: kind), hp, d, d, qp, ld: 3 * d,
                          column: WhisperModel.fusedRowOffset(kind, d: d))
                }
                for (k, r) in requests.enumerated() {
                    let st = states[k], bn = st.pointee.beams, tn = r.tokensPerBeam, start = st.pointee.length, cap = st.pointee.capacity
                    st.pointee.selfK[i].withUnsafeMutableBufferPointer { kb in st.pointee.selfV[i].withUnsafeMutableBufferPointer { vb in
                        for b in 0..<bn {
                            let kBeam = kb.baseAddress! + b * cap * d, vBeam = vb.baseAddress! + b * cap * d
                            let row0 = offsets[k] + b * tn
                            for t in 0..<tn {
                                let src = qp + (row0 + t) * 3 * d
                                (kBeam + (start + t) * d).update(from: src + d, count: d)
                                (vBeam + (start + t) * d).update(from: src + 2 * d, count: d)
                            }
                            c.attention(q: qp + row0 * 3 * d, ldq: 3 * d, k: kBeam, ldk: d, v: vBeam, ldv: d,
                                        out: ap + row0 * d, ldo: d, tq: tn, tk: start + tn, heads: heads, headDim: hd,
                                        causalOffset: start, scores: sp)
                        }
                    } }
                }
                layer.selfOut.apply(c, x: ap, rows: rows, y: xp, ldy: d, accumulate: true)
                adapt(LinearSite(stack: .decoder, layer: i, kind: .selfOut), ap, d, d, xp, ld: d)
                // cross-attention on each run's encoder K/V: all its beams' queries in one GEMM per head
                layer.crossNorm.apply(c, x: xp, rows: rows, out: hp)
                layer.crossQ.apply(c, x: hp, rows: rows, y: qp, ldy: d)
                adapt(LinearSite(stack: .decoder, layer: i, kind: .crossQ), hp, d, d, qp, ld: d)
                for (k, r) in requests.enumerated() {
                    let st = states[k], n = st.pointee.beams * r.tokensPerBeam, row0 = offsets[k]
                    let tk = st.pointee.frames
                    st.pointee.crossKV[i].withUnsafeBufferPointer { kv in
                        c.attention(q: qp + row0 * d, ldq: d, k: kv.baseAddress!, ldk: hd, v: kv.baseAddress! + tk * d, ldv: hd,
                                    out: ap + row0 * d, ldo: d, tq: n, tk: tk, heads: heads, headDim: hd, kvHeadStride: tk * hd,
                                    scores: sp)
                    }
                }
                layer.crossOut.apply(c, x: ap, rows: rows, y: xp, ldy: d, accumulate: true)
                adapt(LinearSite(stack: .decoder, layer: i, kind: .crossOut), ap, d, d, xp, ld: d)
                // feed-forward
                layer.ffnNorm.apply(c, x: xp, rows: rows, out: hp)
                layer.fc1.apply(c, x: hp, rows: rows, y: fp, ldy: ffn)
                adapt(LinearSite(stack: .decoder, layer: i, kind: .fc1), hp, d, ffn, fp, ld: ffn)
                c.gelu(fp, count: rows * ffn)
                layer.fc2.apply(c, x: fp, rows: rows, y: xp, ldy: d, accumulate: true)
                adapt(LinearSite(stack: .decoder, layer: i, kind: .fc2), fp, ffn, d, xp, ld: d)
            }
            decoderNorm.apply(c, x: xp, rows: rows, out: xp)
            logits.withUnsafeMutableBufferPointer { lb in
                // logits = x E^T (the output projection is the token embedding, tied)
                embedTokens.apply(c, x: xp, rows: rows, y: lb.baseAddress!, ldy: vocabSize)
            }
        }
        var out = [[Float]]()
        out.reserveCapacity(requests.count)
        for (k, r) in requests.enumerated() {
            let n = states[k].pointee.beams * r.tokensPerBeam
            out.append(requests.count == 1 ? logits : Array(logits[(offsets[k] * vocabSize)..<((offsets[k] + n) * vocabSize)]))
            states[k].pointee.advance(by: r.tokensPerBeam)
        }
        return out
    }
}

/// New tokens for one run of `decodeBatch`: [beams, tokensPerBeam] row-major, and the
/// adapters that run uses.
struct DecodeRequest {
    var tokens: [Int]
    var tokensPerBeam: Int
    var adapters: ActiveAdapters
}

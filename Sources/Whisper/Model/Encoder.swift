import Tensor

/// The encoder's output for one 30 s window: [positions (1500), d], row-major.
public struct EncoderOutput: Sendable {
    public let frames: Int
    public let dModel: Int
    public var data: [Float]
}

extension WhisperModel {
    /// Runs the encoder (`model.encoder.*`) on one window of log-mel features.
    ///
    /// - features: [n_mels, 3000] channel-major (as Whisper's feature extractor returns).
    /// - Returns [1500, d]: conv1 (k3, pad 1) + GELU, conv2 (k3, pad 1, stride 2) + GELU,
    ///   + sinusoidal positions, pre-norm blocks, final layer norm.
    public func encode(features: [Float], compute c: Compute, adapters: ActiveAdapters = .none) throws(WhisperModelError) -> EncoderOutput {
        let mels = config.numMelBins, frames = inputFrames, d = dModel
        guard features.count == mels * frames else { throw .badFeatures(expected: [mels, frames], got: [features.count / frames, frames]) }
        let t = config.maxSourcePositions
        let heads = config.encoderAttentionHeads, hd = d / heads, ffn = config.encoderFFNDim

        // Buffers reused across layers.
        var x = [Float](repeating: 0, count: t * d)          // residual stream [t, d]
        var h = [Float](repeating: 0, count: t * d)          // normed input [t, d]
        var qkv = [Float](repeating: 0, count: t * 3 * d)    // [t, 3d]
        var attn = [Float](repeating: 0, count: t * d)       // [t, d]
        var big = [Float](repeating: 0, count: max(t * ffn, frames * d, t * t))  // conv1 out / fc1 out / scores
        var scratch = [Float](repeating: 0, count: max(Compute.conv1dScratch(inChannels: mels, kernel: 3, outLength: frames),
                                                       Compute.conv1dScratch(inChannels: d, kernel: 3, outLength: t)))

        features.withUnsafeBufferPointer { fp in
        x.withUnsafeMutableBufferPointer { xb in
        h.withUnsafeMutableBufferPointer { hb in
        qkv.withUnsafeMutableBufferPointer { qb in
        attn.withUnsafeMutableBufferPointer { ab in
        big.withUnsafeMutableBufferPointer { bb in
        scratch.withUnsafeMutableBufferPointer { sb in
            let xp = xb.baseAddress!, hp = hb.baseAddress!, qp = qb.baseAddress!, ap = ab.baseAddress!
            let bp = bb.baseAddress!, sp = sb.baseAddress!
            // conv1: [mels, 3000] -> [3000, d]   (model.encoder.conv1)
            conv1.weight.withUnsafeBufferPointer { w in conv1.bias!.withUnsafeBufferPointer { b in
                c.conv1d(input: fp.baseAddress!, length: frames, inChannels: mels, timeStride: 1, channelStride: frames,
                         weight: w.baseAddress!, bias: b.baseAddress!, outChannels: d, kernel: 3, stride: 1, padding: 1,
                         out: bp, scratch: sp)
            } }
            c.gelu(bp, count: frames * d)
            // conv2: [3000, d] -> [1500, d]  (model.encoder.conv2, stride 2)
            conv2.weight.withUnsafeBufferPointer { w in conv2.bias!.withUnsafeBufferPointer { b in
                c.conv1d(input: bp, length: frames, inChannels: d, timeStride: d, channelStride: 1,
                         weight: w.baseAddress!, bias: b.baseAddress!, outChannels: d, kernel: 3, stride: 2, padding: 1,
                         out: xp, scratch: sp)
            } }
            c.gelu(xp, count: t * d)
            encoderPositions.withUnsafeBufferPointer { pp in for i in 0..<(t * d) { xp[i] += pp[i] } }

            for (i, layer) in encoderLayers.enumerated() {
                // self-attention block: x += out(attn(LN(x)))
                layer.selfAttnNorm.apply(c, x: xp, rows: t, out: hp)
                layer.qkv.apply(c, x: hp, rows: t, y: qp, ldy: 3 * d)
                if !adapters.isEmpty {
                    for kind in [LinearSite.Kind.selfQ, .selfK, .selfV] {
                        adapters.apply(LinearSite(stack: .encoder, layer: i, kind: kind), c, x: hp, rows: t, inFeatures: d, outFeatures: d,
                                       y: qp + WhisperModel.fusedRowOffset(kind, d: d), ldy: 3 * d)
                    }
                }
                c.attention(q: qp, ldq: 3 * d, k: qp + d, ldk: 3 * d, v: qp + 2 * d, ldv: 3 * d, out: ap, ldo: d,
                            tq: t, tk: t, heads: heads, headDim: hd, scores: bp)
                layer.out.apply(c, x: ap, rows: t, y: xp, ldy: d, accumulate: true)
                adapters.apply(LinearSite(stack: .encoder, layer: i, kind: .selfOut), c, x: ap, rows: t, inFeatures: d, outFeatures: d, y: xp, ldy: d)
                // feed-forward block: x += fc2(GELU(fc1(LN(x))))
                layer.ffnNorm.apply(c, x: xp, rows: t, out: hp)
                layer.fc1.apply(c, x: hp, rows: t, y: bp, ldy: ffn)
                adapters.apply(LinearSite(stack: .encoder, layer: i, kind: .fc1), c, x: hp, rows: t, inFeatures: d, outFeatures: ffn, y: bp, ldy: ffn)
                c.gelu(bp, count: t * ffn)
                layer.fc2.apply(c, x: bp, rows: t, y: xp, ldy: d, accumulate: true)
                adapters.apply(LinearSite(stack: .encoder, layer: i, kind: .fc2), c, x: bp, rows: t, inFeatures: ffn, outFeatures: d, y: xp, ldy: d)
            }
            encoderNorm.apply(c, x: xp, rows: t, out: xp)
        } } } } } } }
        return EncoderOutput(frames: t, dModel: d, data: x)
    }
}

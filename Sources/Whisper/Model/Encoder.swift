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
    /// - features: [n_mels, 3000] channel-major (as Whisper's feature extractor returns),
    ///   one whole window (see the `frames:` variant below for the trainer's shorter inputs).
    /// - Returns [1500, d]: conv1 (k3, pad 1) + GELU, conv2 (k3, pad 1, stride 2) + GELU,
    ///   + sinusoidal positions, pre-norm blocks, final layer norm.
    public func encode(features: [Float], compute c: Compute, adapters: ActiveAdapters = .none) throws(WhisperModelError) -> EncoderOutput {
        let mels = config.numMelBins, frames = inputFrames
        guard features.count == mels * frames else { throw .badFeatures(expected: [mels, frames], got: [features.count / frames, frames]) }
        return encode(features: features, frames: frames, compute: c, adapters: adapters)
    }

    /// The encoder on `frames` log-mel frames, [n_mels, frames] channel-major, for any even
    /// frames <= `inputFrames`: [frames / 2, d], using the first frames / 2 positions.
    /// Transcription always passes a whole (padded) 30 s window; the trainer passes what its
    /// examples hold and checks the shape itself (`WhisperTrainingGraph.encoderRows`).
    public func encode(features: [Float], frames: Int, compute c: Compute, adapters: ActiveAdapters = .none) -> EncoderOutput {
        let d = dModel
        precondition(features.count == config.numMelBins * frames && frames % 2 == 0 && frames <= inputFrames,
                     "encode: \(features.count) values are not [\(config.numMelBins), even frames <= \(inputFrames)]")
        let t = frames / 2
        let heads = config.encoderAttentionHeads, hd = d / heads, ffn = config.encoderFFNDim

        var x = encoderStem(features: features, frames: frames, compute: c)   // residual stream [t, d]
        let bigCount = max(t * ffn, c.attentionScoreCount(tq: t, tk: t, heads: heads, headDim: hd, recordProbs: false))
        // Buffers reused across layers, each written before it is read.
        x.withUnsafeMutableBufferPointer { xb in withWorkspace([t * d, t * 3 * d, t * d, bigCount]) { w in
            let xp = xb.baseAddress!
            let hp = w[0]   // normed input [t, d]
            let qp = w[1]   // q|k|v [t, 3d]
            let ap = w[2]   // attention output [t, d]
            let bp = w[3]   // fc1 output [t, ffn], or the attention scores
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
        } }
        return EncoderOutput(frames: t, dModel: d, data: x)
    }

    /// The encoder's convolutional stem (`model.encoder.conv1`, `conv2`, `embed_positions`):
    /// features [n_mels, frames] channel-major -> x [frames / 2, d], the first block's input.
    /// conv1 (k3, pad 1) + GELU -> [frames, d]; conv2 (k3, pad 1, stride 2) + GELU -> [frames/2, d];
    /// + sinusoidal positions. The runtime's encoder and the trainer's recording encoder both
    /// start here (no adapter sits below the blocks, so the stem never needs a backward).
    public func encoderStem(features: [Float], frames: Int, compute c: Compute) -> [Float] {
        let mels = config.numMelBins, d = dModel, t = frames / 2
        var x = uninitializedFloats(t * d)                 // written by conv2
        let scratchCount = max(Compute.conv1dScratch(inChannels: mels, kernel: 3, outLength: frames),
                               Compute.conv1dScratch(inChannels: d, kernel: 3, outLength: t))
        features.withUnsafeBufferPointer { fp in x.withUnsafeMutableBufferPointer { xb in
        withWorkspace([frames * d, scratchCount]) { w in
            let xp = xb.baseAddress!
            let bp = w[0]   // conv1 output [frames, d]
            let sp = w[1]   // im2col scratch of either conv
            conv1.weight.withUnsafeBufferPointer { w in conv1.bias!.withUnsafeBufferPointer { b in
                c.conv1d(input: fp.baseAddress!, length: frames, inChannels: mels, timeStride: 1, channelStride: frames,
                         weight: w.baseAddress!, bias: b.baseAddress!, outChannels: d, kernel: 3, stride: 1, padding: 1,
                         out: bp, scratch: sp)
            } }
            c.gelu(bp, count: frames * d)
            conv2.weight.withUnsafeBufferPointer { w in conv2.bias!.withUnsafeBufferPointer { b in
                c.conv1d(input: bp, length: frames, inChannels: d, timeStride: d, channelStride: 1,
                         weight: w.baseAddress!, bias: b.baseAddress!, outChannels: d, kernel: 3, stride: 2, padding: 1,
                         out: xp, scratch: sp)
            } }
            c.gelu(xp, count: t * d)
            encoderPositions.withUnsafeBufferPointer { pp in for i in 0..<(t * d) { xp[i] += pp[i] } }
        } } }
        return x
    }
}

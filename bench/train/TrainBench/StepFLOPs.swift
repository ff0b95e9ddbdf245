import GlossaCore

/// The matrix-product FLOPs (2 per multiply-add) that one utterance of an `enc_dec` training
/// step cannot avoid, whoever runs it: frozen base, LoRA of rank r on q/k/v/out/fc1/fc2 of
/// every layer of both stacks (decoder self- and cross-attention), teacher forcing over
/// `tokens` label positions, gradients only for the LoRA factors.
///
/// Divided by the sgemm peak measured in the same process, it is a floor on the step time:
/// any faster would need the products to run above BLAS's own best. Element-wise work
/// (softmax, GELU, layer norms, AdamW) is left out, so the true floor is higher.
///
/// The profile mode (`TrainBench 1 profile 1x2`) counts the products that go through the
/// GEMM backend; the forward attention of the encoder runs on register tiles and is not
/// counted there, which is the difference between the two figures.
func encDecStepGFLOP(_ c: WhisperConfig, tokens t: Int, rank r: Int) -> Double {
    let d = c.dModel, s = c.maxSourcePositions          // encoder positions: 1500 for 30 s
    let mel = c.numMelBins, frames = 2 * s
    func mm(_ m: Int, _ n: Int, _ k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }
    // LoRA on a [din -> dout] linear over n rows: forward x A^T, h B^T; backward dB, dh, dA,
    // and dx += dh A when the input gradient is needed.
    func lora(_ n: Int, _ din: Int, _ dout: Int, inputGrad: Bool) -> Double {
        mm(n, r, din) + mm(n, dout, r) + mm(dout, r, n) + mm(n, r, dout) + mm(r, din, n) + (inputGrad ? mm(n, din, r) : 0)
    }
    var f = 0.0
    // Encoder convolutions (frozen, nothing trainable below them): forward only.
    f += mm(frames, d, mel * 3) + mm(s, d, d * 3)
    for layer in 0..<c.encoderLayers {
        let first = layer == 0   // layer 0's input gradient is needed by nothing
        let ffn = c.encoderFFNDim
        // Forward: fused q/k/v, out, fc1, fc2; attention q K^T and P V over all heads.
        f += mm(s, 3 * d, d) + mm(s, d, d) + mm(s, ffn, d) + mm(s, d, ffn)
        f += 2 * mm(s, s, d)
        // Backward input gradients through the frozen weights (q/k/v not for layer 0).
        f += (first ? 0 : mm(s, d, 3 * d)) + mm(s, d, d) + mm(s, d, ffn) + mm(s, ffn, d)
        // Attention backward: dP = dO V^T, dq = dS K, dk = dS^T q, dv = P^T dO.
        f += 4 * mm(s, s, d)
        f += 3 * lora(s, d, d, inputGrad: !first) + lora(s, d, d, inputGrad: true)
        f += lora(s, d, ffn, inputGrad: true) + lora(s, ffn, d, inputGrad: true)
    }
    for _ in 0..<c.decoderLayers {
        let ffn = c.decoderFFNDim
        // Self-attention and feed-forward over t rows, forward and input gradients.
        f += 2 * (mm(t, 3 * d, d) + mm(t, d, d) + mm(t, ffn, d) + mm(t, d, ffn))
        f += 2 * mm(t, t, d) + 4 * mm(t, t, d)
        // Cross-attention: q and out over t rows; k and v over the encoder's s rows, whose
        // input gradient flows back into the encoder.
        f += 2 * (mm(t, d, d) + mm(t, d, d)) + 2 * mm(s, 2 * d, d)
        f += 2 * mm(t, s, d) + 4 * mm(t, s, d)
        f += 4 * lora(t, d, d, inputGrad: true) + lora(t, d, ffn, inputGrad: true) + lora(t, ffn, d, inputGrad: true)
        f += 2 * lora(t, d, d, inputGrad: true) + 2 * lora(s, d, d, inputGrad: true)
    }
    // Tied output projection to the vocabulary: logits and their input gradient.
    f += 2 * mm(t, c.vocabSize, d)
    return f / 1e9
}

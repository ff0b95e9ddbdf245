import Tensor

// One pre-norm transformer block of Whisper, forward with a tape and backward to the LoRA
// factors (base frozen).
//
//   h1 = x  + out_proj(attn(LN1(x)))                       self-attention (causal in the decoder)
//   h2 = h1 + encoder_attn.out_proj(xattn(LN2(h1), enc))   decoder only; k/v from the encoder output
//   y  = h2 + fc2(gelu(fc1(LN3(h2))))
//
// Weights: `FrozenBlock` (views of the runtime model's layers); names: `BlockNames`.

/// Activations of one block kept for backward. Shapes: T rows (queries), S encoder rows, d width.
struct BlockTape {
    var x: [Float] = []                     // [T, d] block input
    var ln1 = NormCache()
    var q: [Float] = [], k: [Float] = [], v: [Float] = []        // [T, d]
    var hq: [Float]?, hk: [Float]?, hv: [Float]?, ho: [Float]?    // LoRA x A^T, [T, r]
    var probs: [Float] = []                  // [H, T, T]
    var attn: [Float] = []                   // [T, d] input of out_proj
    var x1: [Float] = []                     // [T, d]
    var ln2 = NormCache()
    var cq: [Float] = [], ck: [Float] = [], cv: [Float] = []      // [T, d], [S, d], [S, d]
    var hcq: [Float]?, hck: [Float]?, hcv: [Float]?, hco: [Float]?
    var cprobs: [Float] = []                 // [H, T, S]
    var cattn: [Float] = []                  // [T, d]
    var x2: [Float] = []                     // [T, d]
    var ln3 = NormCache()
    var a: [Float] = []                      // [T, ffn] fc1 output (GELU input)
    var hfc1: [Float]?
    var g: [Float] = []                      // [T, ffn] GELU output (fc2 input)
    var hfc2: [Float]?
}

@inline(__always) func addInPlace(_ a: inout [Float], _ b: [Float]) {
    precondition(a.count == b.count, "addInPlace: \(a.count) != \(b.count)")
    a.withUnsafeMutableBufferPointer { ap in b.withUnsafeBufferPointer { bp in
        for i in 0..<ap.count { ap[i] += bp[i] }
    } }
}

/// Forward through one block. x [T, d]; enc [S, d] for decoder blocks. Returns y [T, d] and the
/// tape; without `keepTape` the tape lacks the self-attention probabilities (forward only).
/// `pool` supplies the self-attention probabilities' buffer (the caller gives it back after backward).
func blockForward(_ c: Compute, _ x: [Float], rows t: Int, _ w: FrozenBlock, _ names: BlockNames, _ lora: LoRAParameters?,
                  heads: Int, causal: Bool, enc: [Float]?, encRows s: Int, keepTape: Bool = true, pool: ProbsPool? = nil) -> (y: [Float], tape: BlockTape) {
    let d = w.attnLN.gamma.count
    var tp = BlockTape()
    tp.x = x
    tp.ln1 = layerNormForward(c, x, rows: t, gamma: w.attnLN.gamma, beta: w.attnLN.beta)
    let qkv = fusedLinearForward(c, tp.ln1.y, rows: t, [w.q, w.k, w.v], loras: [lora?[names.q], lora?[names.k], lora?[names.v]])
    (tp.q, tp.hq) = qkv[0]; (tp.k, tp.hk) = qkv[1]; (tp.v, tp.hv) = qkv[2]
    (tp.attn, tp.probs) = attentionForward(c, q: tp.q, k: tp.k, v: tp.v, queries: t, keys: t, dim: d, heads: heads, causal: causal,
                                           keepProbs: keepTape, pool: pool)
    let (o, ho) = linearForward(c, tp.attn, rows: t, w.o, lora: lora?[names.o], residual: x)
    tp.ho = ho
    tp.x1 = o
    if let enc, let lnc = w.crossLN, let cq = w.cq, let ck = w.ck, let cv = w.cv, let co = w.co {
        tp.ln2 = layerNormForward(c, tp.x1, rows: t, gamma: lnc.gamma, beta: lnc.beta)
        (tp.cq, tp.hcq) = linearForward(c, tp.ln2.y, rows: t, cq, lora: lora?[names.cq])
        let kv = fusedLinearForward(c, enc, rows: s, [ck, cv], loras: [lora?[names.ck], lora?[names.cv]])
        (tp.ck, tp.hck) = kv[0]; (tp.cv, tp.hcv) = kv[1]
        (tp.cattn, tp.cprobs) = attentionForward(c, q: tp.cq, k: tp.ck, v: tp.cv, queries: t, keys: s, dim: d, heads: heads, causal: false)
        let (y2, hco) = linearForward(c, tp.cattn, rows: t, co, lora: lora?[names.co], residual: tp.x1)
        tp.hco = hco
        tp.x2 = y2
    } else {
        tp.x2 = tp.x1
    }
    tp.ln3 = layerNormForward(c, tp.x2, rows: t, gamma: w.finalLN.gamma, beta: w.finalLN.beta)
    (tp.a, tp.hfc1) = linearForward(c, tp.ln3.y, rows: t, w.fc1, lora: lora?[names.fc1])
    tp.g = geluForward(c, tp.a)
    let (y, hfc2) = linearForward(c, tp.g, rows: t, w.fc2, lora: lora?[names.fc2], residual: tp.x2)
    tp.hfc2 = hfc2
    return (y, tp)
}

/// Backward of one linear, routing the LoRA gradient to its slot in `grads`.
@inline(__always)
private func linBack(_ c: Compute, _ dy: [Float], x: [Float], rows n: Int, _ w: FrozenLinear, _ name: String, h: [Float]?,
                     _ lora: LoRAParameters, _ grads: inout LoRAParameters, needInput: Bool) -> [Float]? {
    guard let slot = lora.slot(name) else {
        var none: LoRAFactors? = nil
        return needInput ? linearBackward(c, dy, x: x, rows: n, w, lora: nil, h: nil, grad: &none, needInputGrad: true) : nil
    }
    var g: LoRAFactors? = grads.factors[slot]
    grads.factors[slot] = LoRAFactors(a: [], b: [], rank: 0, scale: 0)   // drop the reference: update in place
    let dx = linearBackward(c, dy, x: x, rows: n, w, lora: lora.factors[slot], h: h, grad: &g, needInputGrad: needInput)
    grads.factors[slot] = g!
    return dx
}

/// Backward through one block. dy [T, d] -> dx [T, d] (when `needInputGrad`) and, for decoder
/// blocks, the gradient wrt the encoder output dEnc [S, d] (when `needEncoderGrad`).
/// LoRA gradients accumulate into `grads`.
func blockBackward(_ c: Compute, _ dy: [Float], tape tp: BlockTape, rows t: Int, _ w: FrozenBlock, _ names: BlockNames,
                   _ lora: LoRAParameters, _ grads: inout LoRAParameters, heads: Int,
                   enc: [Float]?, encRows s: Int, needInputGrad: Bool, needEncoderGrad: Bool) -> (dx: [Float]?, dEnc: [Float]?) {
    let d = w.attnLN.gamma.count
    // Feed-forward: y = x2 + fc2(gelu(fc1(LN3(x2))))
    var dx2 = dy
    let dg = linBack(c, dy, x: tp.g, rows: t, w.fc2, names.fc2, h: tp.hfc2, lora, &grads, needInput: true)!
    let da = geluBackward(c, dg, x: tp.a)
    let dln3 = linBack(c, da, x: tp.ln3.y, rows: t, w.fc1, names.fc1, h: tp.hfc1, lora, &grads, needInput: true)!
    addInPlace(&dx2, layerNormBackward(c, dln3, x: tp.x2, tp.ln3, rows: t, gamma: w.finalLN.gamma))

    // Cross-attention: x2 = x1 + co(xattn(cq(LN2(x1)), ck(enc), cv(enc)))
    var dx1 = dx2
    var dEnc: [Float]? = nil
    if let enc, let lnc = w.crossLN, let cq = w.cq, let ck = w.ck, let cv = w.cv, let co = w.co {
        let dcattn = linBack(c, dx2, x: tp.cattn, rows: t, co, names.co, h: tp.hco, lora, &grads, needInput: true)!
        let kvTrainable = lora.slot(names.ck) != nil || lora.slot(names.cv) != nil
        let g = attentionBackward(c, dcattn, q: tp.cq, k: tp.ck, v: tp.cv, probs: tp.cprobs, queries: t, keys: s, dim: d,
                                  heads: heads, needKV: kvTrainable || needEncoderGrad)
        let dln2 = linBack(c, g.dq, x: tp.ln2.y, rows: t, cq, names.cq, h: tp.hcq, lora, &grads, needInput: true)!
        addInPlace(&dx1, layerNormBackward(c, dln2, x: tp.x1, tp.ln2, rows: t, gamma: lnc.gamma))
        if kvTrainable || needEncoderGrad {
            let dek = linBack(c, g.dk, x: enc, rows: s, ck, names.ck, h: tp.hck, lora, &grads, needInput: needEncoderGrad)
            let dev = linBack(c, g.dv, x: enc, rows: s, cv, names.cv, h: tp.hcv, lora, &grads, needInput: needEncoderGrad)
            if var e = dek, let v = dev { addInPlace(&e, v); dEnc = e }
        }
    }

    // Self-attention: x1 = x + o(attn(q(LN1(x)), k(LN1(x)), v(LN1(x))))
    let qkvTrainable = lora.slot(names.q) != nil || lora.slot(names.k) != nil || lora.slot(names.v) != nil
    let dattn = linBack(c, dx1, x: tp.attn, rows: t, w.o, names.o, h: tp.ho, lora, &grads, needInput: qkvTrainable || needInputGrad)
    guard let dattn else { return (nil, dEnc) }
    let g = attentionBackward(c, dattn, q: tp.q, k: tp.k, v: tp.v, probs: tp.probs, queries: t, keys: t, dim: d, heads: heads)
    var dln1 = linBack(c, g.dq, x: tp.ln1.y, rows: t, w.q, names.q, h: tp.hq, lora, &grads, needInput: needInputGrad)
    let dk = linBack(c, g.dk, x: tp.ln1.y, rows: t, w.k, names.k, h: tp.hk, lora, &grads, needInput: needInputGrad)
    let dv = linBack(c, g.dv, x: tp.ln1.y, rows: t, w.v, names.v, h: tp.hv, lora, &grads, needInput: needInputGrad)
    guard needInputGrad else { return (nil, dEnc) }
    addInPlace(&dln1!, dk!); addInPlace(&dln1!, dv!)
    var dx = dx1
    addInPlace(&dx, layerNormBackward(c, dln1!, x: tp.x, tp.ln1, rows: t, gamma: w.attnLN.gamma))
    return (dx, dEnc)
}

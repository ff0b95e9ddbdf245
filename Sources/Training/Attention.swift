// Multi-head scaled dot-product attention on already-projected q, k, v.
//
//   per head h (dh = d / H, scale = dh^-0.5):
//     P_h[T,S] = softmax(scale * q_h[T,dh] k_h[S,dh]^T + mask)      (mask: -inf where s > t, causal only)
//     o_h[T,dh] = P_h v_h[S,dh]
//   o[T,d] = concat_h o_h
//
// Whisper (HF) multiplies q_proj's output by `scale`; applying it to the scores is the same math.
// Used for encoder self-attention, decoder causal self-attention and decoder cross-attention.

/// Forward. q [T, d], k [S, d], v [S, d] -> (o [T, d], probs [H, T, S] kept for backward).
/// Without `keepProbs` (inference through a frozen stack) one [T, S] block is reused for every
/// head and `probs` comes back empty: 1/H of the memory (the encoder's [8, 1500, 1500] is 72 MB),
/// so the scores stay warmer in cache and fresh pages are not faulted in for every layer.
func attentionForward(_ mm: any GEMMBackend, q: [Float], k: [Float], v: [Float], queries t: Int, keys s: Int, dim d: Int, heads nh: Int,
                      causal: Bool, keepProbs: Bool = true) -> (o: [Float], probs: [Float]) {
    precondition(d % nh == 0, "attention: width \(d) not divisible by \(nh) heads")
    precondition(!causal || s >= t, "attention: causal mask needs at least as many keys as queries")
    let dh = d / nh
    let scale = 1 / Float(dh).squareRoot()
    var probs = uninitializedFloats((keepProbs ? nh : 1) * t * s)   // each head's block is written by its first GEMM (beta 0)
    var o = uninitializedFloats(t * d)            // every head's columns are written (beta 0)
    q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
        probs.withUnsafeMutableBufferPointer { pp in o.withUnsafeMutableBufferPointer { op in
            for h in 0..<nh {
                let ph = pp.baseAddress! + (keepProbs ? h * t * s : 0)
                gemm(mm, transA: false, transB: true, m: t, n: s, k: dh, alpha: scale,
                     a: qp.baseAddress! + h * dh, lda: d, b: kp.baseAddress! + h * dh, ldb: d, beta: 0, c: ph, ldc: s)
                if causal {
                    let offset = s - t   // query i sits at key position i + offset
                    for i in 0..<t { for j in (i + offset + 1)..<max(s, i + offset + 1) { ph[i * s + j] = -.infinity } }
                }
                softmaxRowsInPlace(ph, rows: t, cols: s)
                gemm(mm, transA: false, transB: false, m: t, n: dh, k: s, alpha: 1,
                     a: ph, lda: s, b: vp.baseAddress! + h * dh, ldb: d, beta: 0, c: op.baseAddress! + h * dh, ldc: d)
            }
        } }
    } } }
    return (o, keepProbs ? probs : [])
}

/// Backward. Given do [T, d] and the forward's q, k, v, probs:
///   dP = do_h v_h^T;  dS = P * (dP - rowsum(dP * P));
///   dq_h = scale dS k_h;  dk_h = scale dS^T q_h;  dv_h = P^T do_h.
/// Returns (dq [T, d], dk [S, d], dv [S, d]); dk/dv are skipped (empty) when `needKV` is false.
func attentionBackward(_ mm: any GEMMBackend, _ dO: [Float], q: [Float], k: [Float], v: [Float], probs: [Float],
                       queries t: Int, keys s: Int, dim d: Int, heads nh: Int,
                       needKV: Bool = true) -> (dq: [Float], dk: [Float], dv: [Float]) {
    let dh = d / nh
    let scale = 1 / Float(dh).squareRoot()
    // All written by beta-0 GEMMs, head by head, before being read.
    var dq = uninitializedFloats(t * d)
    var dk = uninitializedFloats(needKV ? s * d : 0)
    var dv = uninitializedFloats(needKV ? s * d : 0)
    var dS = uninitializedFloats(t * s)
    dO.withUnsafeBufferPointer { gp in q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in
    v.withUnsafeBufferPointer { vp in probs.withUnsafeBufferPointer { pp in
    dq.withUnsafeMutableBufferPointer { dqp in dk.withUnsafeMutableBufferPointer { dkp in dv.withUnsafeMutableBufferPointer { dvp in
    dS.withUnsafeMutableBufferPointer { sp in
        for h in 0..<nh {
            let ph = pp.baseAddress! + h * t * s
            let ds = sp.baseAddress!
            // dP[T,S] = do_h v_h^T
            gemm(mm, transA: false, transB: true, m: t, n: s, k: dh, alpha: 1,
                 a: gp.baseAddress! + h * dh, lda: d, b: vp.baseAddress! + h * dh, ldb: d, beta: 0, c: ds, ldc: s)
            softmaxBackwardInPlace(ds, y: ph, rows: t, cols: s)
            // dq_h[T,dh] = scale dS k_h
            gemm(mm, transA: false, transB: false, m: t, n: dh, k: s, alpha: scale,
                 a: ds, lda: s, b: kp.baseAddress! + h * dh, ldb: d, beta: 0, c: dqp.baseAddress! + h * dh, ldc: d)
            if needKV {
                // dk_h[S,dh] = scale dS^T q_h
                gemm(mm, transA: true, transB: false, m: s, n: dh, k: t, alpha: scale,
                     a: ds, lda: s, b: qp.baseAddress! + h * dh, ldb: d, beta: 0, c: dkp.baseAddress! + h * dh, ldc: d)
                // dv_h[S,dh] = P^T do_h
                gemm(mm, transA: true, transB: false, m: s, n: dh, k: t, alpha: 1,
                     a: ph, lda: s, b: gp.baseAddress! + h * dh, ldb: d, beta: 0, c: dvp.baseAddress! + h * dh, ldc: d)
            }
        }
    } } } } } } } } }
    return (dq, dk, dv)
}

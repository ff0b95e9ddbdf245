// Multi-head scaled dot-product attention on already-projected q, k, v, BLAS per head.
//
//   per head h (hd = head width, scale = hd^-0.5):
//     P_h[tq,tk] = softmax(scale * q_h k_h^T [+ causal mask])
//     o_h[tq,hd] = P_h v_h
//   backward:  dP = do_h v_h^T;  dS = P * (dP - rowsum(dP * P));
//              dq_h = scale dS k_h;  dk_h = scale dS^T q_h;  dv_h = P^T do_h
//   The backward runs over blocks of query rows (`backwardRowBlock`): a block's dP/dS stay in
//   cache between the three products that read them, and dk_h, dv_h sum over the blocks.
//
// Head h uses columns h*hd ..< (h+1)*hd of each operand; row strides let q/k/v sit inside
// a fused [t, 3d] projection. Keys and values may instead hold each head as a block of its
// own ([heads, tk, hd], `kvHeadStride` = tk * hd), as the decoder keeps the encoder's: a
// head's 1500 keys are then one contiguous 384 KB run, not 1500 pieces 4 KB apart.
// Whisper (HF) multiplies q_proj's output by `scale`; applying it to the scores is the same
// math. Encoder self-attention, decoder causal self-attention
// and decoder cross-attention all use it.

extension Compute {
    /// Floats of `scores` that `attention` needs for these sizes on this `Compute` (its
    /// thread count sizes the tiled path's per-thread score blocks).
    public func attentionScoreCount(tq: Int, tk: Int, heads: Int, headDim hd: Int, recordProbs: Bool) -> Int {
        if Compute.usesTiledAttention(tq: tq, headDim: hd) {
            return TiledScratch(tq: tq, tk: tk, heads: heads, headDim: hd, threads: threads, recordProbs: recordProbs).count
        }
        return (recordProbs || tq <= Compute.fewQueryLimit ? heads : 1) * tq * tk
    }

    /// Forward. q [tq, heads*hd] (row stride ldq), k and v [tk, heads*hd] (strides ldk, ldv),
    /// out [tq, heads*hd] (stride ldo). `kvHeadStride`: floats from head h's first key (and
    /// value) to head h+1's; nil = hd (heads side by side in each row).
    /// `causalOffset` k: query row i may see keys 0...k+i (decoder self-attention with
    /// k cached positions); nil: no mask.
    /// `scores`: `attentionScoreCount` floats of scratch. With `recordProbs` each head's
    /// probabilities P_h stay at h*tq*tk for `attentionBackward`, whichever path ran.
    /// Paths: few queries (tq <= `fewQueryLimit`, decoder steps: FewQueryAttention.swift),
    /// many (`usesTiledAttention`: the encoder, long prompts: TiledAttention.swift), and
    /// BLAS per head in between (and for builds without AVX2 + FMA, or head widths that
    /// are not multiples of 16).
    public func attention(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                          v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                          tq: Int, tk: Int, heads: Int, headDim hd: Int, kvHeadStride: Int? = nil, causalOffset: Int? = nil,
                          scores: UnsafeMutablePointer<Float>, recordProbs: Bool = false) {
        let kvh = kvHeadStride ?? hd
        // Decoder steps (FewQueryAttention.swift). Whether probabilities are recorded never
        // changes the path, so a training forward computes exactly what inference computes.
        if tq <= Compute.fewQueryLimit {
            fewQueryAttention(q: q, ldq: ldq, k: k, ldk: ldk, v: v, ldv: ldv, out: out, ldo: ldo, tq: tq, tk: tk,
                              heads: heads, headDim: hd, kvHeadStride: kvh, causalOffset: causalOffset, scores: scores,
                              recordProbs: recordProbs)
            return
        }
        if Compute.usesTiledAttention(tq: tq, headDim: hd) {
            tiledAttention(q: q, ldq: ldq, k: k, ldk: ldk, v: v, ldv: ldv, out: out, ldo: ldo, tq: tq, tk: tk, heads: heads,
                           headDim: hd, kvHeadStride: kvh, causalOffset: causalOffset, scores: scores, recordProbs: recordProbs)
            return
        }
        blasAttention(q: q, ldq: ldq, k: k, ldk: ldk, v: v, ldv: ldv, out: out, ldo: ldo, tq: tq, tk: tk, heads: heads,
                      headDim: hd, kvHeadStride: kvh, causalOffset: causalOffset, scores: scores, recordProbs: recordProbs)
    }

    /// The BLAS path: per head, one product into a [tq, tk] score block, softmax, one product
    /// out. `scores`: tq*tk floats, or heads*tq*tk with `recordProbs`. Internal so tests can
    /// hold the tiled path to it on builds that have both.
    func blasAttention(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                       v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                       tq: Int, tk: Int, heads: Int, headDim hd: Int, kvHeadStride kvh: Int, causalOffset: Int?,
                       scores: UnsafeMutablePointer<Float>, recordProbs: Bool) {
        let scale = 1 / Float(hd).squareRoot()
        for h in 0..<heads {
            let p = scores + (recordProbs ? h * tq * tk : 0)
            sgemm(transB: true, m: tq, n: tk, k: hd, alpha: scale, a: q + h * hd, lda: ldq,
                  b: k + h * kvh, ldb: ldk, c: p, ldc: tk)
            softmaxRows(p, rows: tq, cols: tk, ld: tk, causalOffset: causalOffset)
            sgemm(m: tq, n: hd, k: tk, a: p, lda: tk, b: v + h * kvh, ldb: ldv, c: out + h * hd, ldc: ldo)
        }
    }

    /// Query rows per block of `attentionBackward`: as many as keep a block's dS [rows, tk]
    /// within `budget` floats (1.5 MB: three times a 512 KB L2, but it stays in the shared L3
    /// beside the other training thread's block),
    /// evened out over the blocks. Whisper's encoder (tk = 1500): 6 blocks of 250 rows. With
    /// one block of 1500 the 9 MB dS went out to memory and back for each of its products;
    /// blocked, the backward's products ran 74-80 GFLOPS against 63-73 (one thread).
    public static func backwardRowBlock(tq: Int, tk: Int, budget: Int = 384 * 1024) -> Int {
        let most = max(16, budget / max(tk, 1))
        let blocks = (tq + most - 1) / most
        return blocks <= 1 ? tq : (tq + blocks - 1) / blocks
    }

    /// The rows per block `attentionBackward` runs: `rowsPerBlock` if given, else
    /// `backwardRowBlock`, within 1 ... tq. Sizes the scratch and the loop alike.
    static func backwardBlockRows(tq: Int, tk: Int, rowsPerBlock: Int?) -> Int {
        min(max(1, tq), max(1, rowsPerBlock ?? backwardRowBlock(tq: tq, tk: tk)))
    }

    /// Floats of scratch `attentionBackward` needs for these sizes.
    public static func attentionBackwardScratchCount(tq: Int, tk: Int, rowsPerBlock: Int? = nil) -> Int {
        backwardBlockRows(tq: tq, tk: tk, rowsPerBlock: rowsPerBlock) * tk
    }

    /// Backward from dOut [tq, heads*hd] (stride lddo) with the forward's q, k, v and recorded
    /// probs [heads, tq, tk]. Writes dq (stride lddq) and, when given, dk and dv (strides
    /// lddk, lddv; a decoder block whose keys and values are frozen and whose encoder output
    /// needs no gradient skips them). `scratch`: `attentionBackwardScratchCount` floats.
    /// `rowsPerBlock`: nil = `backwardRowBlock` (tests set it to cross block edges).
    public func attentionBackward(dOut: UnsafePointer<Float>, lddo: Int, q: UnsafePointer<Float>, ldq: Int,
                                  k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
                                  probs: UnsafePointer<Float>, tq: Int, tk: Int, heads: Int, headDim hd: Int,
                                  dq: UnsafeMutablePointer<Float>, lddq: Int,
                                  dk: UnsafeMutablePointer<Float>?, lddk: Int, dv: UnsafeMutablePointer<Float>?, lddv: Int,
                                  scratch ds: UnsafeMutablePointer<Float>, rowsPerBlock: Int? = nil) {
        let scale = 1 / Float(hd).squareRoot()
        let block = Compute.backwardBlockRows(tq: tq, tk: tk, rowsPerBlock: rowsPerBlock)
        for h in 0..<heads {
            let p = probs + h * tq * tk, g = dOut + h * hd
            for i0 in stride(from: 0, to: tq, by: block) {
                // Rows i0 ..< i0+r; dk_h and dv_h are written by the first block, summed into after.
                let r = min(block, tq - i0), beta: Float = i0 == 0 ? 0 : 1
                let pb = p + i0 * tk, gb = g + i0 * lddo
                sgemm(transB: true, m: r, n: tk, k: hd, a: gb, lda: lddo, b: v + h * hd, ldb: ldv, c: ds, ldc: tk)   // dP
                softmaxBackwardRows(ds, y: pb, rows: r, cols: tk, ld: tk)                                           // dS
                sgemm(m: r, n: hd, k: tk, alpha: scale, a: ds, lda: tk, b: k + h * hd, ldb: ldk,
                      c: dq + i0 * lddq + h * hd, ldc: lddq)
                if let dk {
                    sgemm(transA: true, m: tk, n: hd, k: r, alpha: scale, a: ds, lda: tk, b: q + i0 * ldq + h * hd, ldb: ldq,
                          beta: beta, c: dk + h * hd, ldc: lddk)
                }
                if let dv {
                    sgemm(transA: true, m: tk, n: hd, k: r, a: pb, lda: tk, b: gb, ldb: lddo, beta: beta,
                          c: dv + h * hd, ldc: lddv)
                }
            }
        }
    }
}

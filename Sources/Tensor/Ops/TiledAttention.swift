import CIntrinsics
import Dispatch

// Attention for many queries (the encoder's 1500 x 1500 per head, long decoder prompts) in
// blocks of query rows, on the register-tiled products of CIntrinsics/attention_tiles.h.
//
// Per head h and block of up to `tiledBlockRows` query rows i0 ..< i0 + m:
//   S[m, tk] = scale * q_blk K_h^T     (tiles against K_h packed once per call)
//   P        = softmax rows of S       (`softmaxRow`, the same code as every other path)
//   o_blk    = P V_h                   (tiles against V_h packed once per call)
// A block's scores (48 x 1500 floats, 288 KB) stay in L2 from the first product to the
// last, where the BLAS path writes, re-reads and re-packs a 9 MB matrix per head. Each
// row's softmax is the whole row's, as on the BLAS path (no running rescale), so the two
// paths differ only in the products' summation order.
//
// Scratch (`attentionScoreCount`): the rows' scores, then each head's packed keys
// (ceil(tk/16)*16*hd floats), then each head's packed values (the same count).
// Rows: one block per thread, or all heads' probabilities [heads, tq, tk] with `recordProbs`
// (the trainer's backward reads them there, as on the BLAS path).

extension Compute {
    /// Query rows per block: 8 tiles of 6 rows. 48 x 1500 scores (288 KB) plus one head's
    /// value panel (96 KB) fit the 512 KB L2 of the CPUs measured.
    static let tiledBlockRows = 48

    /// Whether `attention` takes the tiled path for these sizes: the build has the tiles
    /// (AVX2 + FMA), head widths are whole 16-column panels, and there are enough queries
    /// (at least one block) for packing each head's keys and values to pay off.
    static func usesTiledAttention(tq: Int, headDim hd: Int) -> Bool {
        glossa_attention_tiles() != 0 && hd % 16 == 0 && tq >= tiledBlockRows
    }

    /// Where the tiled path's scratch goes (file comment), in floats from `scores`: the one
    /// spelling of it, read by `attentionScoreCount` to size it and by `tiledAttention` to use it.
    struct TiledScratch {
        let heads: Int
        /// Threads' shares of the (head, block) work items.
        let parts: Int
        /// Floats of the rows' scores: one block per part, or [heads, tq, tk] recorded.
        let rowsArea: Int
        /// Floats of one head's packed keys (and room for its packed values, tk * hd <= this).
        let packed: Int
        /// Offsets of the packed keys and the packed values (each `heads * packed`).
        var keysOffset: Int { rowsArea }
        var valuesOffset: Int { rowsArea + heads * packed }
        /// Floats the whole scratch takes.
        var count: Int { rowsArea + 2 * heads * packed }

        init(tq: Int, tk: Int, heads: Int, headDim hd: Int, threads: Int, recordProbs: Bool) {
            let blocks = (tq + Compute.tiledBlockRows - 1) / Compute.tiledBlockRows
            self.heads = heads
            parts = max(1, min(threads, heads * blocks))
            rowsArea = recordProbs ? heads * tq * tk : parts * Compute.tiledBlockRows * tk
            packed = (tk + 15) / 16 * 16 * hd
        }
    }

    /// Same contract as `attention`, with `scores` laid out as the file comment says.
    func tiledAttention(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                        v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                        tq: Int, tk: Int, heads: Int, headDim hd: Int, kvHeadStride kvh: Int, causalOffset: Int?,
                        scores: UnsafeMutablePointer<Float>, recordProbs: Bool) {
        let scale = 1 / Float(hd).squareRoot()
        let br = Compute.tiledBlockRows, blocks = (tq + br - 1) / br
        let layout = TiledScratch(tq: tq, tk: tk, heads: heads, headDim: hd, threads: threads, recordProbs: recordProbs)
        let parts = layout.parts, packed = layout.packed
        let keys = scores + layout.keysOffset, values = scores + layout.valuesOffset
        parallelRanges(heads, parts: parts, minPerPart: 1) { range in
            for h in range {
                glossa_attn_pack_keys(k + h * kvh, ldk, tk, hd, keys + h * packed)
                glossa_attn_pack_values(v + h * kvh, ldv, tk, hd, values + h * packed)
            }
        }
        // Work items h * blocks + b in contiguous runs: a thread finishes a head's blocks
        // (its packed keys and values warm in cache) before it moves on.
        let items = heads * blocks
        let run: (Int) -> Void = { part in
            for item in (items * part / parts)..<(items * (part + 1) / parts) {
                let h = item / blocks, i0 = item % blocks * br, m = min(br, tq - i0)
                let s = recordProbs ? scores + h * tq * tk + i0 * tk : scores + part * br * tk
                glossa_attn_scores(q + i0 * ldq + h * hd, ldq, m, keys + h * packed, tk, hd, scale, s, tk)
                for i in 0..<m {
                    let valid = causalOffset.map { min(tk, $0 + i0 + i + 1) } ?? tk
                    Compute.softmaxRow(s + i * tk, valid: valid, cols: tk)
                }
                glossa_attn_values(s, tk, m, values + h * packed, tk, hd, causalOffset.map { $0 + i0 } ?? -1,
                                   out + i0 * ldo + h * hd, ldo)
            }
        }
        if parts == 1 { run(0); return }
        // Each part writes only its own items' rows and its own block of scores, and
        // `concurrentPerform` returns when all are done: safe to share the pointer closure.
        nonisolated(unsafe) let work = run
        DispatchQueue.concurrentPerform(iterations: parts) { work($0) }
    }
}

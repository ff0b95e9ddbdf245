import XCTest
import Foundation
@testable import Tensor

/// The tiled attention path (many queries: the encoder, long prompts) against the reference
/// and the BLAS path it replaces.
final class TiledAttentionTests: XCTestCase {
    let compute = Compute(blas: sharedBLAS, threads: 2)

    /// A GLOSSA_CPU=haswell build (what CI and `make` build) has the tiles, so the tests below
    /// run the tiled path and not the BLAS path twice.
    func testHaswellBuildTakesTheTiledPath() {
        let cpu = ProcessInfo.processInfo.environment["GLOSSA_CPU"] ?? ""
        if cpu == "haswell" {
            XCTAssertTrue(Compute.usesTiledAttention(tq: Compute.tiledBlockRows, headDim: 64),
                          "GLOSSA_CPU=haswell but Tensor was built without the attention tiles")
        }
        XCTAssertFalse(Compute.usesTiledAttention(tq: Compute.tiledBlockRows - 1, headDim: 64), "below one block: BLAS path")
        XCTAssertFalse(Compute.usesTiledAttention(tq: 1500, headDim: 40), "head width not whole panels: BLAS path")
    }

    /// Whole and partial row blocks (48, 53, 101 queries: tiles of 6 and the 1...5 tails),
    /// whole and partial key panels (1, 16, 17, 131 keys), head widths 16 and 64, causal or
    /// not, operands inside wider rows, keys and values as one block per head, one or two
    /// threads, recording probabilities or not. Output within 2e-6 of the reference (values
    /// are O(1)); padding columns untouched; recorded probabilities equal to the BLAS path's
    /// within 1e-6.
    func testTiledAttentionMatchesReferenceAndBLASPath() {
        var rng = SeededRandom(seed: 21)
        var cases = 0
        for threads in [1, 2] {
            let c = compute.with(threads: threads)
            for hd in [16, 64] {
                let heads = 3, d = heads * hd, pad = 3, ld = d + pad
                for tq in [48, 53, 101] {
                    for tk in [1, 16, 17, 131] {
                        for causal in [nil, tk - tq, 0] as [Int?] where causal.map({ $0 >= 0 && tk >= tq + $0 }) ?? true {
                            for headMajor in [false, true] {
                                for record in [false, true] {
                                    cases += 1
                                    let q = rng.floats(tq * ld), k = rng.floats(tk * ld), v = rng.floats(tk * ld)
                                    func dense(_ a: [Float], _ rows: Int) -> [Float] { (0..<rows).flatMap { a[($0 * ld)..<($0 * ld + d)] } }
                                    // [heads, tk, hd] blocks, as the decoder keeps the encoder's K/V
                                    func blocks(_ a: [Float]) -> [Float] {
                                        var out = [Float]()
                                        for h in 0..<heads { for j in 0..<tk { let at = j * ld + h * hd; out += a[at..<(at + hd)] } }
                                        return out
                                    }
                                    let (kk, vv, ldk, kvh) = headMajor ? (blocks(k), blocks(v), hd, tk * hd) : (k, v, ld, hd)
                                    let what = "threads \(threads) hd \(hd) tq \(tq) tk \(tk) causal \(String(describing: causal)) headMajor \(headMajor) record \(record)"
                                    XCTAssertTrue(!Compute.usesTiledAttention(tq: 48, headDim: 16) || Compute.usesTiledAttention(tq: tq, headDim: hd), what)

                                    var out = [Float](repeating: 7, count: tq * ld)
                                    var scores = [Float](repeating: .nan, count: c.attentionScoreCount(tq: tq, tk: tk, heads: heads, headDim: hd, recordProbs: record))
                                    out.withUnsafeMutableBufferPointer { op in scores.withUnsafeMutableBufferPointer { sp in
                                        c.attention(q: q, ldq: ld, k: kk, ldk: ldk, v: vv, ldv: ldk, out: op.baseAddress!, ldo: ld, tq: tq, tk: tk,
                                                    heads: heads, headDim: hd, kvHeadStride: kvh, causalOffset: causal, scores: sp.baseAddress!,
                                                    recordProbs: record)
                                    } }
                                    let ref = Reference.attention(q: dense(q, tq), k: dense(k, tk), v: dense(v, tk), tq: tq, tk: tk,
                                                                  heads: heads, headDim: hd, causalOffset: causal)
                                    XCTAssertLessThan(maxAbsError(dense(out, tq), ref), 2e-6, what)
                                    XCTAssertTrue((0..<tq).allSatisfy { i in (d..<ld).allSatisfy { out[i * ld + $0] == 7 } }, "padding written: " + what)

                                    // The BLAS path on the same operands: the same probabilities.
                                    var blasOut = [Float](repeating: 0, count: tq * ld)
                                    var blasProbs = [Float](repeating: 0, count: heads * tq * tk)
                                    blasOut.withUnsafeMutableBufferPointer { op in blasProbs.withUnsafeMutableBufferPointer { sp in
                                        c.blasAttention(q: q, ldq: ld, k: kk, ldk: ldk, v: vv, ldv: ldk, out: op.baseAddress!, ldo: ld, tq: tq, tk: tk,
                                                        heads: heads, headDim: hd, kvHeadStride: kvh, causalOffset: causal, scores: sp.baseAddress!,
                                                        recordProbs: true)
                                    } }
                                    XCTAssertLessThan(maxAbsError(dense(out, tq), dense(blasOut, tq)), 2e-6, what)
                                    if record {
                                        XCTAssertLessThan(maxAbsError(Array(scores[0..<(heads * tq * tk)]), blasProbs), 1e-6, "probs: " + what)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(cases, 2 * 2 * 3 * (4 + 2) * 2 * 2, "every shape ran")
    }

    /// A 1500 x 1500 encoder layer's attention (8 heads of 64, whisper-base) against the
    /// BLAS path: the shapes the runtime runs, where tiles, blocks and threads all divide
    /// unevenly (1500 = 31 blocks of 48 + 12; 93 key panels + 12 keys).
    func testEncoderShapedAttentionMatchesBLASPath() {
        var rng = SeededRandom(seed: 22)
        let t = 1500, heads = 8, hd = 64, d = heads * hd
        let qkv = rng.floats(t * 3 * d)
        var tiled = [Float](repeating: 0, count: t * d), blas = tiled
        var scores = [Float](repeating: 0, count: max(compute.attentionScoreCount(tq: t, tk: t, heads: heads, headDim: hd, recordProbs: false), t * t))
        qkv.withUnsafeBufferPointer { qp in scores.withUnsafeMutableBufferPointer { sp in
            let q = qp.baseAddress!
            tiled.withUnsafeMutableBufferPointer { op in
                compute.attention(q: q, ldq: 3 * d, k: q + d, ldk: 3 * d, v: q + 2 * d, ldv: 3 * d, out: op.baseAddress!, ldo: d,
                                  tq: t, tk: t, heads: heads, headDim: hd, scores: sp.baseAddress!)
            }
            blas.withUnsafeMutableBufferPointer { op in
                compute.blasAttention(q: q, ldq: 3 * d, k: q + d, ldk: 3 * d, v: q + 2 * d, ldv: 3 * d, out: op.baseAddress!, ldo: d,
                                      tq: t, tk: t, heads: heads, headDim: hd, kvHeadStride: hd, causalOffset: nil,
                                      scores: sp.baseAddress!, recordProbs: false)
            }
        } }
        XCTAssertLessThan(maxAbsError(tiled, blas), 2e-6)
    }
}

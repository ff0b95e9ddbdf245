import GlossaCore
import XCTest
@testable import Tensor

/// The backward kernels (used by the trainer) against central finite differences of their
/// forward, which is the kernel the runtime runs (tiny shapes).
final class BackwardKernelTests: XCTestCase {
    let c = Compute(blas: sharedBLAS, threads: 1)

    /// Applies `body` to a mutable copy of `x` and returns it.
    func run(_ x: [Float], _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var y = x
        y.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        return y
    }

    func testLayerNorm() {
        var rng = SeededGenerator(seed: 3)
        let (n, d) = (3, 6)
        let gamma = randomArray(d, &rng), beta = randomArray(d, &rng)
        let x = randomArray(n * d, &rng), rr = randomArray(n * d, &rng)
        func forward(_ x: [Float], mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil) -> [Float] {
            var y = [Float](repeating: 0, count: n * d)
            y.withUnsafeMutableBufferPointer { c.layerNorm(x: x, rows: n, dim: d, gamma: gamma, beta: beta, out: $0.baseAddress!, mean: mean, rstd: rstd) }
            return y
        }
        var mean = [Float](repeating: 0, count: n), rstd = mean
        let y = mean.withUnsafeMutableBufferPointer { mp in rstd.withUnsafeMutableBufferPointer { sp in forward(x, mean: mp.baseAddress!, rstd: sp.baseAddress!) } }
        XCTAssertLessThan(maxAbsError(y, Reference.layerNorm(x, rows: n, dim: d, gamma: gamma, beta: beta)), 1e-5)
        // The recorded statistics are the rows' mean and 1/sqrt(var + eps).
        let row = x[0..<d].map(Double.init), m = row.reduce(0, +) / Double(d)
        XCTAssertEqual(Double(mean[0]), m, accuracy: 1e-6)
        XCTAssertEqual(Double(rstd[0]), 1 / (row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d) + 1e-5).squareRoot(), accuracy: 1e-4)
        var dx = [Float](repeating: 0, count: n * d)
        dx.withUnsafeMutableBufferPointer {
            c.layerNormBackward(dy: rr, x: x, mean: mean, rstd: rstd, rows: n, dim: d, gamma: gamma, dx: $0.baseAddress!)
        }
        checkGradient("layernorm dx", at: x, analytic: dx) { dot(forward($0), rr) }
    }

    func testGELU() {
        var rng = SeededGenerator(seed: 4)
        let x = randomArray(30, &rng, scale: 2), rr = randomArray(30, &rng)
        XCTAssertEqual(run([1]) { c.gelu($0, count: 1) }[0], 0.8413447, accuracy: 1e-6)   // 1 * Phi(1)
        let dx = run(rr) { c.geluBackward(dy: $0, x: x, dx: $0, count: x.count) }      // in place, dx = dy
        checkGradient("gelu dx", at: x, analytic: dx, eps: 1e-3) { xx in dot(run(xx) { c.gelu($0, count: xx.count) }, rr) }
    }

    func testSoftmaxWithAndWithoutCausalMask() {
        var rng = SeededGenerator(seed: 5)
        let (n, cols) = (3, 5)
        let x = randomArray(n * cols, &rng), rr = randomArray(n * cols, &rng)
        for offset in [nil, 1] as [Int?] {
            let forward = { (xx: [Float]) in self.run(xx) { self.c.softmaxRows($0, rows: n, cols: cols, ld: cols, causalOffset: offset) } }
            let y = forward(x)
            XCTAssertEqual(y[0..<cols].reduce(0, +), 1, accuracy: 1e-6)
            if offset != nil { XCTAssertEqual(y[2..<cols], [0, 0, 0], "masked columns are exactly 0") }
            let dx = y.withUnsafeBufferPointer { yp in run(rr) { c.softmaxBackwardRows($0, y: yp.baseAddress!, rows: n, cols: cols, ld: cols) } }
            checkGradient("softmax dx (offset \(String(describing: offset)))", at: x, analytic: dx) { dot(forward($0), rr) }
        }
    }

    func testCausalSelfAttention() { attentionCheck(t: 4, s: 4, causal: true, seed: 6) }
    func testCrossAttention() { attentionCheck(t: 3, s: 5, causal: false, seed: 7) }
    /// Query-row blocks of 2 over 5 rows (2, 2, 1): dq per block, dk and dv summed across them.
    func testBlockedSelfAttention() { attentionCheck(t: 5, s: 5, causal: true, seed: 8, rowsPerBlock: 2) }
    func testBlockedCrossAttention() { attentionCheck(t: 5, s: 4, causal: false, seed: 9, rowsPerBlock: 2) }

    /// The block size: whole when dS fits the budget, else even blocks that cover tq.
    func testBackwardRowBlock() {
        XCTAssertEqual(Compute.backwardRowBlock(tq: 35, tk: 1500), 35)
        XCTAssertEqual(Compute.backwardRowBlock(tq: 1500, tk: 1500), 250)
        XCTAssertEqual(Compute.backwardRowBlock(tq: 40, tk: 10, budget: 160), 14)   // 16 rows at most: 3 blocks
        XCTAssertEqual(Compute.attentionBackwardScratchCount(tq: 1500, tk: 1500), 250 * 1500)
    }

    /// Forward (recording) against `Reference.attention`, then dq, dk, dv against finite differences.
    private func attentionCheck(t: Int, s: Int, causal: Bool, seed: UInt64, rowsPerBlock: Int? = nil) {
        var rng = SeededGenerator(seed: seed)
        let (d, nh) = (6, 2)
        let q = randomArray(t * d, &rng), k = randomArray(s * d, &rng), v = randomArray(s * d, &rng)
        let rr = randomArray(t * d, &rng)
        let offset: Int? = causal ? s - t : nil
        func forward(_ q: [Float], _ k: [Float], _ v: [Float], probs: inout [Float]) -> [Float] {
            var o = [Float](repeating: 0, count: t * d)
            o.withUnsafeMutableBufferPointer { op in probs.withUnsafeMutableBufferPointer { pp in
                c.attention(q: q, ldq: d, k: k, ldk: d, v: v, ldv: d, out: op.baseAddress!, ldo: d, tq: t, tk: s, heads: nh,
                            headDim: d / nh, causalOffset: offset, scores: pp.baseAddress!, recordProbs: true)
            } }
            return o
        }
        func loss(_ q: [Float], _ k: [Float], _ v: [Float]) -> Double {
            var p = [Float](repeating: 0, count: nh * t * s)
            return dot(forward(q, k, v, probs: &p), rr)
        }
        var probs = [Float](repeating: 0, count: nh * t * s)
        let o = forward(q, k, v, probs: &probs)
        XCTAssertLessThan(relMaxError(o, Reference.attention(q: q, k: k, v: v, tq: t, tk: s, heads: nh, headDim: d / nh, causalOffset: offset)), 1e-5)
        var dq = [Float](repeating: 0, count: t * d), dk = [Float](repeating: 0, count: s * d), dv = dk
        var scratch = [Float](repeating: 0, count: Compute.attentionBackwardScratchCount(tq: t, tk: s, rowsPerBlock: rowsPerBlock))
        dq.withUnsafeMutableBufferPointer { dqp in dk.withUnsafeMutableBufferPointer { dkp in dv.withUnsafeMutableBufferPointer { dvp in
            scratch.withUnsafeMutableBufferPointer { sp in
                c.attentionBackward(dOut: rr, lddo: d, q: q, ldq: d, k: k, ldk: d, v: v, ldv: d, probs: probs, tq: t, tk: s, heads: nh,
                                    headDim: d / nh, dq: dqp.baseAddress!, lddq: d, dk: dkp.baseAddress!, lddk: d,
                                    dv: dvp.baseAddress!, lddv: d, scratch: sp.baseAddress!, rowsPerBlock: rowsPerBlock)
            }
        } } }
        let name = causal ? "self" : "cross"
        checkGradient("\(name) dq", at: q, analytic: dq) { loss($0, k, v) }
        checkGradient("\(name) dk", at: k, analytic: dk) { loss(q, $0, v) }
        checkGradient("\(name) dv", at: v, analytic: dv) { loss(q, k, $0) }
    }

    /// At a size where the default blocks (700 rows over 700 keys: 2 blocks of 350), the
    /// backward matches the same backward run as one block, with strided fused operands.
    func testDefaultBlocksMatchOneBlock() {
        var rng = SeededGenerator(seed: 10)
        let (t, nh, hd) = (700, 2, 16), d = nh * hd, ld = 3 * d
        XCTAssertEqual(Compute.backwardRowBlock(tq: t, tk: t), 350)
        let qkv = randomArray(t * ld, &rng), dO = randomArray(t * d, &rng)
        var probs = [Float](repeating: 0, count: nh * t * t), o = [Float](repeating: 0, count: t * d)
        qkv.withUnsafeBufferPointer { x in
            o.withUnsafeMutableBufferPointer { op in probs.withUnsafeMutableBufferPointer { pp in
                c.blasAttention(q: x.baseAddress!, ldq: ld, k: x.baseAddress! + d, ldk: ld, v: x.baseAddress! + 2 * d, ldv: ld,
                                out: op.baseAddress!, ldo: d, tq: t, tk: t, heads: nh, headDim: hd, kvHeadStride: hd,
                                causalOffset: nil, scores: pp.baseAddress!, recordProbs: true)
            } }
        }
        func backward(_ rows: Int?) -> [Float] {
            var g = [Float](repeating: .nan, count: t * ld)   // [dq | dk | dv], every entry written
            var scratch = [Float](repeating: 0, count: Compute.attentionBackwardScratchCount(tq: t, tk: t, rowsPerBlock: rows))
            qkv.withUnsafeBufferPointer { x in g.withUnsafeMutableBufferPointer { gp in scratch.withUnsafeMutableBufferPointer { sp in
                let x = x.baseAddress!, gp = gp.baseAddress!
                c.attentionBackward(dOut: dO, lddo: d, q: x, ldq: ld, k: x + d, ldk: ld, v: x + 2 * d, ldv: ld, probs: probs,
                                    tq: t, tk: t, heads: nh, headDim: hd, dq: gp, lddq: ld, dk: gp + d, lddk: ld,
                                    dv: gp + 2 * d, lddv: ld, scratch: sp.baseAddress!, rowsPerBlock: rows)
            } } }
            return g
        }
        let blocked = backward(nil), whole = backward(t)
        XCTAssertFalse(blocked.contains { $0.isNaN }, "every gradient entry written")
        XCTAssertLessThan(relMaxError(blocked, whole), 1e-5)
    }

    /// Head-strided operands as attention uses them (row strides larger than the logical
    /// width, operands offset into their rows), every transpose, alpha and beta.
    func testStridedSgemmMatchesReference() {
        var rng = SeededGenerator(seed: 1)
        let (m, n, k, ld) = (5, 3, 4, 8)
        let a = randomArray(m * ld, &rng), aT = randomArray(k * ld, &rng), b = randomArray(k * ld, &rng), bT = randomArray(n * ld, &rng)
        // Dense copies of the logical operands for the reference.
        func dense(_ x: [Float], rows: Int, cols: Int, offset: Int) -> [Float] {
            (0..<(rows * cols)).map { x[($0 / cols) * ld + offset + $0 % cols] }
        }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let am = ta ? aT : a, bm = tb ? bT : b
            let c0 = randomArray(m * ld, &rng)
            var c1 = c0
            am.withUnsafeBufferPointer { ap in bm.withUnsafeBufferPointer { bp in c1.withUnsafeMutableBufferPointer { cp in
                c.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress! + 1, lda: ld,
                        b: bp.baseAddress! + 2, ldb: ld, beta: 1, c: cp.baseAddress! + 3, ldc: ld)
            } } }
            let prod = Reference.matmul(dense(am, rows: ta ? k : m, cols: ta ? m : k, offset: 1), dense(bm, rows: tb ? n : k, cols: tb ? k : n, offset: 2),
                                        m: m, n: n, k: k, transA: ta, transB: tb)
            for i in 0..<m { for j in 0..<ld {
                let expect = (3..<(3 + n)).contains(j) ? 0.5 * prod[i * n + j - 3] + c0[i * ld + j] : c0[i * ld + j]
                XCTAssertEqual(c1[i * ld + j], expect, accuracy: 1e-5, "transA \(ta) transB \(tb) at [\(i), \(j)]")
            } }
        }
    }
}

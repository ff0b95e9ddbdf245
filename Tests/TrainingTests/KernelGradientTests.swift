import GlossaCore
import XCTest
@testable import Training

/// Each backward kernel against central finite differences of its forward (tiny shapes).
/// Kernels run on the reference backend here; BLAS is checked against it separately.
let ref = ReferenceGEMM()

final class KernelGradientTests: XCTestCase {
    func testGemmMatchesNaiveProductForAllTransposes() {
        var rng = SeededGenerator(seed: 1)
        let (m, n, k) = (3, 4, 5)
        let a = randomArray(m * k, &rng), b = randomArray(k * n, &rng)
        let at = (0..<(k * m)).map { idx in a[(idx % m) * k + idx / m] }       // [k, m]
        let bt = (0..<(n * k)).map { idx in b[(idx % k) * n + idx / k] }       // [n, k]
        var expect = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { expect[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = [Float](repeating: 0, count: m * n)
            matmul(ref, ta ? at : a, transA: ta, tb ? bt : b, transB: tb, m: m, n: n, k: k, into: &c)
            for i in c.indices { XCTAssertEqual(c[i], expect[i], accuracy: 1e-5, "transA \(ta) transB \(tb)") }
        }
    }

    func testLinearWithLoRA() {
        var rng = SeededGenerator(seed: 2)
        let (n, i, o, r) = (3, 5, 4, 2)
        let lin = FrozenLinear(weight: randomArray(o * i, &rng), bias: randomArray(o, &rng), inDim: i, outDim: o)
        let lora = LoRAFactors(a: randomArray(r * i, &rng), b: randomArray(o * r, &rng), rank: r, scale: 1.5)
        let x = randomArray(n * i, &rng), rr = randomArray(n * o, &rng)
        let (_, h) = linearForward(ref, x, rows: n, lin, lora: lora)
        var g: LoRAFactors? = lora.zeros()
        let dx = linearBackward(ref, rr, x: x, rows: n, lin, lora: lora, h: h, grad: &g, needInputGrad: true)!
        checkGradient("linear dx", at: x, analytic: dx) { dot(linearForward(ref, $0, rows: n, lin, lora: lora).y, rr) }
        checkGradient("linear dA", at: lora.a, analytic: g!.a) { a in
            var l = lora; l.a = a; return dot(linearForward(ref, x, rows: n, lin, lora: l).y, rr)
        }
        checkGradient("linear dB", at: lora.b, analytic: g!.b) { b in
            var l = lora; l.b = b; return dot(linearForward(ref, x, rows: n, lin, lora: l).y, rr)
        }
        // Without LoRA and without bias: y = x W^T exactly.
        let plain = FrozenLinear(weight: lin.weight, bias: nil, inDim: i, outDim: o)
        var none: LoRAFactors? = nil
        let dx0 = linearBackward(ref, rr, x: x, rows: n, plain, lora: nil, h: nil, grad: &none, needInputGrad: true)!
        checkGradient("linear (no LoRA) dx", at: x, analytic: dx0) { dot(linearForward(ref, $0, rows: n, plain, lora: nil).y, rr) }
    }

    func testLayerNorm() {
        var rng = SeededGenerator(seed: 3)
        let (n, d) = (3, 6)
        let ln = FrozenLayerNorm(gamma: randomArray(d, &rng), beta: randomArray(d, &rng))
        let x = randomArray(n * d, &rng), rr = randomArray(n * d, &rng)
        let f = layerNormForward(x, rows: n, ln)
        // Normalised rows have mean beta-weighted... check the forward itself on one row.
        let row = Array(x[0..<d]); let m = row.reduce(0, +) / Float(d)
        let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(d)
        XCTAssertEqual(f.y[2], (row[2] - m) / (v + 1e-5).squareRoot() * ln.gamma[2] + ln.beta[2], accuracy: 1e-5)
        let dx = layerNormBackward(rr, x: x, mean: f.mean, rstd: f.rstd, rows: n, ln)
        checkGradient("layernorm dx", at: x, analytic: dx) { dot(layerNormForward($0, rows: n, ln).y, rr) }
    }

    func testGELU() {
        var rng = SeededGenerator(seed: 4)
        let x = randomArray(30, &rng, scale: 2), rr = randomArray(30, &rng)
        XCTAssertEqual(geluForward([1])[0], 0.8413447, accuracy: 1e-6)   // 1 * Phi(1)
        checkGradient("gelu dx", at: x, analytic: geluBackward(rr, x: x), eps: 1e-3) { dot(geluForward($0), rr) }
    }

    func testSoftmax() {
        var rng = SeededGenerator(seed: 5)
        let (n, c) = (3, 5)
        let x = randomArray(n * c, &rng), rr = randomArray(n * c, &rng)
        let y = softmaxForward(x, rows: n, cols: c)
        XCTAssertEqual(y[0..<c].reduce(0, +), 1, accuracy: 1e-6)
        checkGradient("softmax dx", at: x, analytic: softmaxBackward(rr, y: y, rows: n, cols: c)) {
            dot(softmaxForward($0, rows: n, cols: c), rr)
        }
    }

    func testCausalSelfAttention() { attentionCheck(t: 4, s: 4, causal: true, seed: 6) }
    func testCrossAttention() { attentionCheck(t: 3, s: 5, causal: false, seed: 7) }

    private func attentionCheck(t: Int, s: Int, causal: Bool, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let (d, nh) = (6, 2)
        let q = randomArray(t * d, &rng), k = randomArray(s * d, &rng), v = randomArray(s * d, &rng)
        let rr = randomArray(t * d, &rng)
        let f = attentionForward(ref, q: q, k: k, v: v, queries: t, keys: s, dim: d, heads: nh, causal: causal)
        if causal {   // first query sees only the first key: output row 0 equals v row 0
            for j in 0..<d { XCTAssertEqual(f.o[j], v[j], accuracy: 1e-6) }
        }
        let g = attentionBackward(ref, rr, q: q, k: k, v: v, probs: f.probs, queries: t, keys: s, dim: d, heads: nh)
        let name = causal ? "self" : "cross"
        checkGradient("\(name) dq", at: q, analytic: g.dq) {
            dot(attentionForward(ref, q: $0, k: k, v: v, queries: t, keys: s, dim: d, heads: nh, causal: causal).o, rr)
        }
        checkGradient("\(name) dk", at: k, analytic: g.dk) {
            dot(attentionForward(ref, q: q, k: $0, v: v, queries: t, keys: s, dim: d, heads: nh, causal: causal).o, rr)
        }
        checkGradient("\(name) dv", at: v, analytic: g.dv) {
            dot(attentionForward(ref, q: q, k: k, v: $0, queries: t, keys: s, dim: d, heads: nh, causal: causal).o, rr)
        }
    }

    func testCrossEntropyWithIgnoredRows() {
        var rng = SeededGenerator(seed: 8)
        let (t, v) = (4, 7)
        let z = randomArray(t * v, &rng)
        let targets = [ignoreTarget, 3, 0, 6]
        let f = crossEntropyForward(z, targets: targets, vocab: v)
        XCTAssertEqual(f.count, 3)
        // Reference loss for row 1 by direct logsumexp.
        let row = z[v..<(2 * v)].map(Double.init)
        let lse = log(row.map { exp($0) }.reduce(0, +))
        var expect = lse - row[3]
        for r in [2, 3] {
            let rw = z[(r * v)..<((r + 1) * v)].map(Double.init)
            expect += log(rw.map { exp($0) }.reduce(0, +)) - rw[targets[r]]
        }
        XCTAssertEqual(f.lossSum, expect, accuracy: 1e-5)
        var grad = f.probs
        crossEntropyBackward(&grad, targets: targets, vocab: v, gradScale: 0.5)
        XCTAssertTrue(grad[0..<v].allSatisfy { $0 == 0 }, "ignored row must get no gradient")
        checkGradient("cross-entropy dz", at: z, analytic: grad, eps: 1e-3) {
            0.5 * crossEntropyForward($0, targets: targets, vocab: v).lossSum
        }
    }

    func testResidualAddPassesGradientToBothBranches() {
        // y = x + f(x) with f = linear: dx = dy + dy W (the graph adds the two contributions).
        var rng = SeededGenerator(seed: 9)
        let (n, d) = (2, 3)
        let lin = FrozenLinear(weight: randomArray(d * d, &rng), bias: nil, inDim: d, outDim: d)
        let x = randomArray(n * d, &rng), rr = randomArray(n * d, &rng)
        var none: LoRAFactors? = nil
        var dx = linearBackward(ref, rr, x: x, rows: n, lin, lora: nil, h: nil, grad: &none, needInputGrad: true)!
        for i in dx.indices { dx[i] += rr[i] }
        checkGradient("residual dx", at: x, analytic: dx) { xx in
            let y = linearForward(ref, xx, rows: n, lin, lora: nil).y
            return dot(zip(xx, y).map { $0 + $1 }, rr)
        }
    }

    func testConv1dMatchesDirectConvolution() {
        var rng = SeededGenerator(seed: 10)
        let (cIn, l, cOut, k) = (3, 8, 2, 3)
        let x = randomArray(cIn * l, &rng), w = randomArray(cOut * cIn * k, &rng), b = randomArray(cOut, &rng)
        for stride in [1, 2] {
            let (y, lOut) = conv1dForward(ref, x, layout: .channelsFirst, channels: cIn, length: l, weight: w, bias: b,
                                          outChannels: cOut, kernel: k, stride: stride, padding: 1)
            XCTAssertEqual(lOut, stride == 1 ? 8 : 4)
            for o in 0..<lOut { for co in 0..<cOut {
                var s = b[co]
                for ci in 0..<cIn { for kk in 0..<k {
                    let p = o * stride + kk - 1
                    if p >= 0 && p < l { s += w[(co * cIn + ci) * k + kk] * x[ci * l + p] }
                } }
                XCTAssertEqual(y[o * cOut + co], s, accuracy: 1e-5)
            } }
        }
    }
}

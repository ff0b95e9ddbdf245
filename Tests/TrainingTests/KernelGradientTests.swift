import GlossaCore
import XCTest
import Tensor
import Whisper
@testable import Training

/// The trainer's own backward kernels (LoRA linear, cross-entropy, residual) against central
/// finite differences of their forward (tiny shapes). Layer norm, GELU, softmax and attention
/// are Tensor's shared kernels and are checked in TensorTests/BackwardKernelTests.
let ref = testCompute

final class KernelGradientTests: XCTestCase {
    func testLinearWithLoRA() {
        var rng = SeededGenerator(seed: 2)
        let (n, i, o, r) = (3, 5, 4, 2)
        let lin = FrozenLinear(LinearWeights(weight: randomArray(o * i, &rng), bias: randomArray(o, &rng), inFeatures: i, outFeatures: o))
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
        let plain = FrozenLinear(LinearWeights(weight: lin.weights.weight, bias: nil, inFeatures: i, outFeatures: o))
        var none: LoRAFactors? = nil
        let dx0 = linearBackward(ref, rr, x: x, rows: n, plain, lora: nil, h: nil, grad: &none, needInputGrad: true)!
        checkGradient("linear (no LoRA) dx", at: x, analytic: dx0) { dot(linearForward(ref, $0, rows: n, plain, lora: nil).y, rr) }
    }

    /// The graph sees the runtime's fused q|k|v [3d, d] as three [d, d] row blocks: a block
    /// view must compute exactly what a separate linear holding those rows computes, and its
    /// gradients must pass the finite-difference check.
    func testRowBlockOfAFusedWeight() {
        var rng = SeededGenerator(seed: 12)
        let (n, d, r) = (3, 4, 2)
        let fused = LinearWeights(weight: randomArray(3 * d * d, &rng), bias: randomArray(3 * d, &rng), inFeatures: d, outFeatures: 3 * d)
        let k = FrozenLinear(fused, rowOffset: d, outDim: d)
        let alone = FrozenLinear(LinearWeights(weight: Array(fused.weight[(d * d)..<(2 * d * d)]), bias: Array(fused.bias![d..<(2 * d)]),
                                               inFeatures: d, outFeatures: d))
        let lora = LoRAFactors(a: randomArray(r * d, &rng), b: randomArray(d * r, &rng), rank: r, scale: 0.5)
        let x = randomArray(n * d, &rng), rr = randomArray(n * d, &rng)
        XCTAssertEqual(linearForward(ref, x, rows: n, k, lora: lora).y, linearForward(ref, x, rows: n, alone, lora: lora).y)
        let (_, h) = linearForward(ref, x, rows: n, k, lora: lora)
        var g: LoRAFactors? = lora.zeros()
        let dx = linearBackward(ref, rr, x: x, rows: n, k, lora: lora, h: h, grad: &g, needInputGrad: true)!
        checkGradient("row block dx", at: x, analytic: dx) { dot(linearForward(ref, $0, rows: n, k, lora: lora).y, rr) }
        checkGradient("row block dA", at: lora.a, analytic: g!.a) { a in
            var l = lora; l.a = a; return dot(linearForward(ref, x, rows: n, k, lora: l).y, rr)
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
        let lin = FrozenLinear(LinearWeights(weight: randomArray(d * d, &rng), bias: nil, inFeatures: d, outFeatures: d))
        let x = randomArray(n * d, &rng), rr = randomArray(n * d, &rng)
        var none: LoRAFactors? = nil
        var dx = linearBackward(ref, rr, x: x, rows: n, lin, lora: nil, h: nil, grad: &none, needInputGrad: true)!
        for i in dx.indices { dx[i] += rr[i] }
        checkGradient("residual dx", at: x, analytic: dx) { xx in
            let y = linearForward(ref, xx, rows: n, lin, lora: nil).y
            return dot(zip(xx, y).map { $0 + $1 }, rr)
        }
    }
}

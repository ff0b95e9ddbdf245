import XCTest
import GlossaCore
@testable import Tensor

final class KernelTests: XCTestCase {
    let compute = Compute(blas: sharedBLAS, threads: 2)

    func testFastExpAndErfMatchLibm() {
        var worstExp: Float = 0, worstErf: Float = 0
        var x: Float = -80
        while x < 80 {
            let e = Foundation.exp(Double(x))
            worstExp = max(worstExp, Float(abs(Double(FastMath.exp(x)) - e) / e))
            x += 0.0137
        }
        x = -6
        while x < 6 {
            worstErf = max(worstErf, Float(abs(Double(FastMath.erf(x)) - Foundation.erf(Double(x)))))
            x += 0.00113
        }
        XCTAssertLessThan(worstExp, 5e-7)
        XCTAssertLessThan(worstErf, 5e-7)
        XCTAssertEqual(FastMath.exp(-1000), 0, accuracy: 1e-37)
    }

    /// `FastMath.exp` builds 2^n with integer wrapping arithmetic so loops vectorise; before,
    /// it converted with `Int32(n)` (kept here as the oracle). Same reduction, same polynomial
    /// and the same round-to-nearest-even n: the two agree to 1e-7 relative (in practice bit
    /// for bit) over the whole clamped range, so runtime outputs do not move.
    func testFastExpMatchesTheInt32Formulation() {
        func int32Exp(_ x: Float) -> Float {
            let xc = min(max(x, -87.0), 88.0)
            let n = (xc * 1.442695041).rounded(.toNearestOrEven)
            var r = xc - n * 0.693359375
            r = r + n * 2.12194440e-4
            var p: Float = 1.9875691500e-4
            p = p * r + 1.3981999507e-3
            p = p * r + 8.3334519073e-3
            p = p * r + 4.1665795894e-2
            p = p * r + 1.6666665459e-1
            p = p * r + 5.0000001201e-1
            p = p * r * r + r + 1
            return p * Float(bitPattern: UInt32(bitPattern: Int32(n) + 127) << 23)
        }
        var worst: Float = 0
        var x: Float = -90
        while x < 90 {
            let old = int32Exp(x)
            worst = max(worst, abs(FastMath.exp(x) - old) / old)
            x += 0.00731
        }
        XCTAssertLessThanOrEqual(worst, 1e-7)
    }

    /// NaN used to pass `min`/`max` and trap in `Int32(n)` (SIGILL in transcribe with a
    /// NaN adapter). It must come out as NaN, and the infinities clamp.
    func testFastExpIsNaNSafe() {
        XCTAssertTrue(FastMath.exp(.nan).isNaN)
        XCTAssertTrue(FastMath.exp(-.nan).isNaN)
        XCTAssertTrue(FastMath.exp(.infinity).isFinite)
        XCTAssertEqual(FastMath.exp(-.infinity), 0, accuracy: 1e-37)
        XCTAssertTrue(FastMath.erf(.nan).isNaN)
        XCTAssertEqual(FastMath.exp(1), Float(M_E), accuracy: 1e-6)
    }

    func testLinear() {
        var rng = SeededRandom(seed: 1)
        let n = 33, i = 70, o = 45
        let x = rng.floats(n * i), w = rng.floats(o * i), b = rng.floats(o)
        var y = [Float](repeating: 0, count: n * o)
        y.withUnsafeMutableBufferPointer { yp in
            compute.linear(x: x, ldx: i, rows: n, inFeatures: i, weight: w, bias: b, outFeatures: o, y: yp.baseAddress!, ldy: o)
        }
        XCTAssertLessThan(relMaxError(y, Reference.linear(x, rows: n, w, b, inFeatures: i, outFeatures: o)), 1e-6)
        // accumulate adds x W^T + b to what is there
        let before = y
        y.withUnsafeMutableBufferPointer { yp in
            compute.linear(x: x, ldx: i, rows: n, inFeatures: i, weight: w, bias: b, outFeatures: o, y: yp.baseAddress!, ldy: o, accumulate: true)
        }
        XCTAssertLessThan(relMaxError(y, before.map { $0 * 2 }), 1e-6)
    }

    /// The f16-weight streaming path equals the f32 one bit for bit when the f32 weights are the
    /// f16 ones widened (the products and their order are the same): at every tile remainder,
    /// with and without a k tail, bias and accumulate, above the row limit too, one and two threads.
    func testSkinnyLinearWithHalfWeightsIsBitIdentical() {
        var rng = SeededRandom(seed: 21)
        for threads in [1, 2] {
            let c = compute.with(threads: threads)
            for (i, o) in [(64, 37), (70, 45), (5, 2), (512, 257)] {
                for n in [1, 2, 3, 5, 8, Compute.skinnyRowLimit, 2 * Compute.skinnyRowLimit + 1] {
                    let half = rng.floats(o * i).map { Float16($0) }, w = half.map { Float($0) }
                    let x = rng.floats(n * i), b = rng.floats(o), start = rng.floats(n * o)
                    for bias in [true, false] {
                        for accumulate in [false, true] {
                            var y32 = start, y16 = start
                            y32.withUnsafeMutableBufferPointer { yp in
                                c.skinnyLinear(x: x, ldx: i, rows: n, inFeatures: i, weight: w, bias: bias ? b : nil,
                                               outFeatures: o, y: yp.baseAddress!, ldy: o, accumulate: accumulate)
                            }
                            y16.withUnsafeMutableBufferPointer { yp in
                                c.skinnyLinear(x: x, ldx: i, rows: n, inFeatures: i, weight: half, bias: bias ? b : nil,
                                               outFeatures: o, y: yp.baseAddress!, ldy: o, accumulate: accumulate)
                            }
                            XCTAssertEqual(y16, y32, "rows \(n) in \(i) out \(o) bias \(bias) accumulate \(accumulate) threads \(threads)")
                        }
                    }
                }
            }
        }
    }

    /// The few-rows path (`skinnyLinear`, rows <= skinnyRowLimit) against the reference, at
    /// every row count around its 4-row tiles, odd and even output counts, k with and
    /// without a tail past the 8 lanes, strided x and y, bias or not, and accumulate; one and
    /// two threads. Rows above the limit (BLAS) are covered by `testLinear`.
    func testSkinnyLinearAtEveryRowCount() {
        var rng = SeededRandom(seed: 9)
        for threads in [1, 2] {
            let c = compute.with(threads: threads)
            for (i, o) in [(64, 37), (70, 45), (5, 2), (512, 1), (512, 257)] {
                for n in 1...(Compute.skinnyRowLimit + 1) {
                    let ldx = i + 3, ldy = o + 2
                    let x = rng.floats(n * ldx), w = rng.floats(o * i), b = rng.floats(o)
                    let dense = (0..<n).flatMap { r in x[(r * ldx)..<(r * ldx + i)] }
                    for bias in [true, false] {
                        let start = rng.floats(n * ldy)
                        for accumulate in [false, true] {
                            var y = start
                            y.withUnsafeMutableBufferPointer { yp in
                                c.linear(x: x, ldx: ldx, rows: n, inFeatures: i, weight: w, bias: bias ? b : nil,
                                         outFeatures: o, y: yp.baseAddress!, ldy: ldy, accumulate: accumulate)
                            }
                            let want = Reference.linear(dense, rows: n, w, bias ? b : nil, inFeatures: i, outFeatures: o)
                            // Each output against the float error bound of its sum: a few ulps of
                            // sum |x w| + |b| + |y before| (a relative check fails by cancellation
                            // when one output happens to be near 0).
                            var worst: Float = 0
                            for r in 0..<n {
                                for j in 0..<o {
                                    var scale = abs(bias ? b[j] : 0) + abs(accumulate ? start[r * ldy + j] : 0)
                                    for p in 0..<i { scale += abs(dense[r * i + p] * w[j * i + p]) }
                                    let expected = want[r * o + j] + (accumulate ? start[r * ldy + j] : 0)
                                    worst = max(worst, abs(y[r * ldy + j] - expected) / scale)
                                }
                                // the stride padding is never written
                                for j in o..<ldy { XCTAssertEqual(y[r * ldy + j], start[r * ldy + j]) }
                            }
                            XCTAssertLessThan(worst, 1e-6, "rows \(n) in \(i) out \(o) bias \(bias) accumulate \(accumulate) threads \(threads)")
                        }
                    }
                }
            }
        }
    }

    /// Each row of x gets the same bits whatever row count it is decoded with (rows go
    /// through the kernel in tiles of 3 and 2, a lone row twice in a pair tile): a beam's
    /// logits do not depend on how many beams or utterances share its step.
    func testSkinnyRowsDoNotDependOnTiling() {
        var rng = SeededRandom(seed: 23)
        for threads in [1, 2] {
            let c = compute.with(threads: threads)
            for (i, o) in [(70, 45), (512, 9)] {
                let w = rng.floats(o * i), b = rng.floats(o), half = w.map { Float16($0) }
                for n in 1...9 {
                    let x = rng.floats(n * i)
                    for useHalf in [false, true] {
                        func run(_ rows: Int, _ from: Int) -> [Float] {
                            var y = [Float](repeating: 0, count: rows * o)
                            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                                let xr = xp.baseAddress! + from * i
                                if useHalf {
                                    c.skinnyLinear(x: xr, ldx: i, rows: rows, inFeatures: i, weight: half, bias: b, outFeatures: o,
                                                   y: yp.baseAddress!, ldy: o, accumulate: false)
                                } else {
                                    c.skinnyLinear(x: xr, ldx: i, rows: rows, inFeatures: i, weight: w, bias: b, outFeatures: o,
                                                   y: yp.baseAddress!, ldy: o, accumulate: false)
                                }
                            } }
                            return y
                        }
                        let together = run(n, 0)
                        let alone = (0..<n).flatMap { run(1, $0) }
                        XCTAssertEqual(together, alone, "rows \(n) in \(i) out \(o) f16 \(useHalf) threads \(threads)")
                    }
                }
            }
        }
    }

    func testLayerNorm() {
        var rng = SeededRandom(seed: 2)
        let n = 17, d = 512
        let x = rng.floats(n * d, scale: 3).map { $0 + 5 }, g = rng.floats(d), b = rng.floats(d)
        var y = x
        y.withUnsafeMutableBufferPointer { yp in
            compute.layerNorm(x: yp.baseAddress!, rows: n, dim: d, gamma: g, beta: b, out: yp.baseAddress!)
        }
        XCTAssertLessThan(maxAbsError(y, Reference.layerNorm(x, rows: n, dim: d, gamma: g, beta: b)), 2e-5)
    }

    func testGELU() {
        var rng = SeededRandom(seed: 3)
        let x = rng.floats(100_000, scale: 8)
        var y = x
        y.withUnsafeMutableBufferPointer { compute.gelu($0.baseAddress!, count: $0.count) }
        XCTAssertLessThan(maxAbsError(y, Reference.gelu(x)), 2e-6)
    }

    func testSoftmaxWithAndWithoutCausalMask() {
        var rng = SeededRandom(seed: 4)
        let r = 9, c = 300
        let x = rng.floats(r * c, scale: 20)
        for offset in [nil, 0, 5] as [Int?] {
            var y = x
            y.withUnsafeMutableBufferPointer { compute.softmaxRows($0.baseAddress!, rows: r, cols: c, ld: c, causalOffset: offset) }
            XCTAssertLessThan(maxAbsError(y, Reference.softmax(x, rows: r, cols: c, causalOffset: offset)), 1e-6)
        }
    }

    func testConv1dStride1And2BothLayouts() {
        var rng = SeededRandom(seed: 5)
        let cin = 6, t = 41, cout = 8, k = 3
        let x = rng.floats(cin * t), w = rng.floats(cout * cin * k), b = rng.floats(cout)
        let xT = (0..<(t * cin)).map { x[($0 % cin) * t + $0 / cin] } // time-major copy
        for stride in [1, 2] {
            let tOut = Compute.conv1dOutLength(t, kernel: k, stride: stride, padding: 1)
            let ref = Reference.conv1d(x, inChannels: cin, length: t, w, b, outChannels: cout, kernel: k, stride: stride, padding: 1)
            for timeMajor in [false, true] {
                var y = [Float](repeating: 0, count: tOut * cout)
                var scratch = [Float](repeating: 0, count: Compute.conv1dScratch(inChannels: cin, kernel: k, outLength: tOut))
                let input = timeMajor ? xT : x
                y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                    compute.conv1d(input: input, length: t, inChannels: cin, timeStride: timeMajor ? cin : 1,
                                   channelStride: timeMajor ? 1 : t, weight: w, bias: b, outChannels: cout,
                                   kernel: k, stride: stride, padding: 1, out: yp.baseAddress!, scratch: sp.baseAddress!)
                } }
                XCTAssertLessThan(relMaxError(y, ref), 1e-6, "stride \(stride) timeMajor \(timeMajor)")
            }
        }
    }

    func testAttentionMatchesReference() {
        var rng = SeededRandom(seed: 6)
        let heads = 4, hd = 16, d = heads * hd
        for (tq, tk, causal) in [(7, 7, 0 as Int?), (1, 12, 11), (5, 30, nil), (3, 9, 6)] {
            let q = rng.floats(tq * d), k = rng.floats(tk * d), v = rng.floats(tk * d)
            var out = [Float](repeating: 0, count: tq * d)
            var scores = [Float](repeating: 0, count: compute.attentionScoreCount(tq: tq, tk: tk, heads: heads, headDim: hd, recordProbs: false))
            out.withUnsafeMutableBufferPointer { op in scores.withUnsafeMutableBufferPointer { sp in
                compute.attention(q: q, ldq: d, k: k, ldk: d, v: v, ldv: d, out: op.baseAddress!, ldo: d, tq: tq, tk: tk,
                                  heads: heads, headDim: hd, causalOffset: causal, scores: sp.baseAddress!)
            } }
            let ref = Reference.attention(q: q, k: k, v: v, tq: tq, tk: tk, heads: heads, headDim: hd, causalOffset: causal)
            XCTAssertLessThan(relMaxError(out, ref), 1e-5, "tq \(tq) tk \(tk) causal \(String(describing: causal))")
        }
    }

    /// The few-queries path (tq <= fewQueryLimit: decoder steps) against the reference, with
    /// head widths that take each of its column loops (64 and 40: 32 lanes; 16: 8; 12: the
    /// scalar tail), one key to a few hundred, causal or not, operands inside wider rows,
    /// and heads on one or two threads (two only above its 64K multiply-add threshold).
    func testFewQueryAttentionMatchesReference() {
        var rng = SeededRandom(seed: 11)
        for threads in [1, 2] {
            let c = compute.with(threads: threads)
            for hd in [64, 40, 16, 12] {
                let heads = 3, d = heads * hd, pad = 5
                for tk in [1, 6, 301] {
                    for tq in 1...(Compute.fewQueryLimit + 1) {
                        for causal in [nil, tk - tq] as [Int?] where causal.map({ $0 >= 0 }) ?? true {
                            let ld = d + pad
                            let q = rng.floats(tq * ld), k = rng.floats(tk * ld), v = rng.floats(tk * ld)
                            func dense(_ a: [Float], _ rows: Int) -> [Float] { (0..<rows).flatMap { a[($0 * ld)..<($0 * ld + d)] } }
                            var out = [Float](repeating: 7, count: tq * ld)
                            var scores = [Float](repeating: 0, count: compute.attentionScoreCount(tq: tq, tk: tk, heads: heads, headDim: hd, recordProbs: false))
                            out.withUnsafeMutableBufferPointer { op in scores.withUnsafeMutableBufferPointer { sp in
                                c.attention(q: q, ldq: ld, k: k, ldk: ld, v: v, ldv: ld, out: op.baseAddress!, ldo: ld, tq: tq, tk: tk,
                                            heads: heads, headDim: hd, causalOffset: causal, scores: sp.baseAddress!)
                            } }
                            let ref = Reference.attention(q: dense(q, tq), k: dense(k, tk), v: dense(v, tk), tq: tq, tk: tk,
                                                          heads: heads, headDim: hd, causalOffset: causal)
                            let what = "threads \(threads) hd \(hd) tk \(tk) tq \(tq) causal \(String(describing: causal))"
                            XCTAssertLessThan(maxAbsError(dense(out, tq), ref), 2e-6, what)
                            for i in 0..<tq { for j in d..<ld { XCTAssertEqual(out[i * ld + j], 7, "padding written: " + what) } }
                        }
                    }
                }
            }
        }
    }

    /// Keys and values held as one block per head ([heads, tk, hd], `kvHeadStride` tk * hd,
    /// the decoder's encoder K/V) give the column layout's output bit for bit, on the
    /// few-queries path and on the BLAS path, on one and two threads.
    func testHeadMajorKeysAndValuesMatchColumnLayout() {
        var rng = SeededRandom(seed: 12)
        let heads = 4, hd = 16, d = heads * hd
        for threads in [1, 2] {
            let c = compute.with(threads: threads)
            for (tq, tk) in [(1, 37), (5, 300), (Compute.fewQueryLimit + 3, 41)] {
                let q = rng.floats(tq * d), k = rng.floats(tk * d), v = rng.floats(tk * d)
                func headMajor(_ a: [Float]) -> [Float] {
                    var out = [Float]()
                    for h in 0..<heads { for j in 0..<tk { let at = j * d + h * hd; out += a[at..<(at + hd)] } }
                    return out
                }
                let kh = headMajor(k), vh = headMajor(v)
                var scores = [Float](repeating: 0, count: compute.attentionScoreCount(tq: tq, tk: tk, heads: heads, headDim: hd, recordProbs: false))
                var columns = [Float](repeating: 0, count: tq * d), blocks = columns
                scores.withUnsafeMutableBufferPointer { sp in
                    columns.withUnsafeMutableBufferPointer { op in
                        c.attention(q: q, ldq: d, k: k, ldk: d, v: v, ldv: d, out: op.baseAddress!, ldo: d, tq: tq, tk: tk,
                                    heads: heads, headDim: hd, scores: sp.baseAddress!)
                    }
                    blocks.withUnsafeMutableBufferPointer { op in
                        c.attention(q: q, ldq: d, k: kh, ldk: hd, v: vh, ldv: hd, out: op.baseAddress!, ldo: d, tq: tq, tk: tk,
                                    heads: heads, headDim: hd, kvHeadStride: tk * hd, scores: sp.baseAddress!)
                    }
                }
                XCTAssertEqual(blocks, columns, "threads \(threads) tq \(tq) tk \(tk)")
                let ref = Reference.attention(q: q, k: k, v: v, tq: tq, tk: tk, heads: heads, headDim: hd, causalOffset: nil)
                XCTAssertLessThan(relMaxError(blocks, ref), 1e-5, "threads \(threads) tq \(tq) tk \(tk)")
            }
        }
    }

    /// Tensor widens stored halves (the conversion itself is tested in GlossaCoreTests'
    /// TensorDataFloatTests) and refuses tensors that are not float weights.
    func testHalfAndBFloat16Conversion() throws {
        // f16: 1.0, -2.0, 65504 (max), smallest subnormal 2^-24, +inf, 0.333251953125
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x3555]
        let expect: [Float] = [1, -2, 65504, Float(sign: .plus, exponent: -24, significand: 1), .infinity, 0.333251953125]
        var bytes = Data()
        for h in halves { withUnsafeBytes(of: h.littleEndian) { bytes.append(contentsOf: $0) } }
        XCTAssertEqual(try Tensor(TensorData(dtype: .f16, shape: [6], bytes: bytes)).data, expect)
        var bf = Data()
        for f: Float in [1.5, -3.25, 1e-3] { withUnsafeBytes(of: UInt16(f.bitPattern >> 16).littleEndian) { bf.append(contentsOf: $0) } }
        let got = try Tensor(TensorData(dtype: .bf16, shape: [3], bytes: bf)).data
        XCTAssertEqual(got[0], 1.5); XCTAssertEqual(got[1], -3.25)
        XCTAssertEqual(got[2], Float(bitPattern: (Float(1e-3).bitPattern >> 16) << 16))
        XCTAssertThrowsError(try Tensor(TensorData(dtype: .i32, shape: [1], bytes: Data(count: 4))))
    }
}

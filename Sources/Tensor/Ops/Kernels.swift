import Foundation

extension Compute {
    // MARK: linear

    /// y[n, out] (row stride ldy) = x[n, in] (row stride ldx) * W^T + b,
    /// W stored [out, in] as in PyTorch `nn.Linear.weight`; b [out] or nil.
    /// With `accumulate`, adds to y instead of overwriting (bias still added once).
    public func linear(x: UnsafePointer<Float>, ldx: Int, rows n: Int, inFeatures: Int,
                       weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, outFeatures: Int,
                       y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false) {
        if let b, !accumulate {
            for r in 0..<n { (y + r * ldy).update(from: b, count: outFeatures) }
            blas.sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: w, ldb: inFeatures,
                       beta: 1, c: y, ldc: ldy)
        } else {
            blas.sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: w, ldb: inFeatures,
                       beta: accumulate ? 1 : 0, c: y, ldc: ldy)
            if let b, accumulate {
                for r in 0..<n { let row = y + r * ldy; for j in 0..<outFeatures { row[j] += b[j] } }
            }
        }
    }

    // MARK: layer norm

    /// out[n, d] = (x - mean) / sqrt(var + eps) * gamma + beta per row (biased variance,
    /// as `nn.LayerNorm`); `out` may equal `x`.
    public func layerNorm(x: UnsafePointer<Float>, rows n: Int, dim d: Int, gamma: UnsafePointer<Float>,
                          beta: UnsafePointer<Float>, eps: Float = 1e-5, out: UnsafeMutablePointer<Float>) {
        parallelRanges(n, parts: threads, minPerPart: 64) { range in
            for r in range {
                let row = x + r * d, o = out + r * d
                var sum: Float = 0
                for j in 0..<d { sum += row[j] }
                let mean = sum / Float(d)
                var sq: Float = 0
                for j in 0..<d { let c = row[j] - mean; sq += c * c }
                let inv = 1 / (sq / Float(d) + eps).squareRoot()
                for j in 0..<d { o[j] = (row[j] - mean) * inv * gamma[j] + beta[j] }
            }
        }
    }

    // MARK: GELU

    /// In place: x = 0.5 x (1 + erf(x / sqrt 2)), the exact (erf) GELU of PyTorch's default.
    public func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        parallelRanges(count, parts: threads, minPerPart: 1 << 14) { range in
            for i in range {
                let v = x[i]
                x[i] = 0.5 * v * (1 + FastMath.erf(v * 0.70710678118654752))
            }
        }
    }

    // MARK: softmax

    /// In place, per row of x[rows, cols] (row stride ld): softmax over the first
    /// `valid(row)` columns; later columns (masked) become 0. `causalOffset` k gives
    /// valid(row) = min(cols, k + row + 1), the decoder's causal mask; nil means all valid.
    public func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, causalOffset: Int? = nil) {
        parallelRanges(rows, parts: threads, minPerPart: max(1, 8192 / max(cols, 1))) { range in
            for r in range {
                let row = x + r * ld
                let valid = causalOffset.map { min(cols, $0 + r + 1) } ?? cols
                Compute.softmaxRow(row, valid: valid, cols: cols)
            }
        }
    }

    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int, cols: Int) {
        var m = -Float.infinity
        for j in 0..<valid { m = max(m, row[j]) }
        var s: Float = 0
        for j in 0..<valid { let e = FastMath.exp(row[j] - m); row[j] = e; s += e }
        let inv = 1 / s
        for j in 0..<valid { row[j] *= inv }
        for j in valid..<cols { row[j] = 0 }
    }

    // MARK: conv1d

    /// Scratch floats `conv1d` needs: im2col matrix [tOut, cin*k].
    public static func conv1dScratch(inChannels: Int, kernel: Int, outLength: Int) -> Int { outLength * inChannels * kernel }

    /// Output length of a 1-D convolution.
    public static func conv1dOutLength(_ t: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        (t + 2 * padding - kernel) / stride + 1
    }

    /// 1-D convolution by im2col + one GEMM, output time-major.
    ///
    /// - input: element (channel c, time t) at `input[t * timeStride + c * channelStride]`
    ///   (time-major [T, cin] has timeStride cin, channelStride 1; channel-major [cin, T]
    ///   has timeStride 1, channelStride T).
    /// - weight: [cout, cin, k] (`nn.Conv1d.weight`), bias [cout].
    /// - out: [tOut, cout] time-major, tOut = (T + 2 pad - k) / stride + 1.
    /// - scratch: `conv1dScratch` floats.
    public func conv1d(input: UnsafePointer<Float>, length t: Int, inChannels cin: Int, timeStride: Int, channelStride: Int,
                       weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outChannels cout: Int,
                       kernel k: Int, stride: Int, padding: Int,
                       out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let tOut = Compute.conv1dOutLength(t, kernel: k, stride: stride, padding: padding)
        let width = cin * k
        // cols[to, c*k + j] = x[c, to*stride + j - pad] (0 outside).
        parallelRanges(tOut, parts: threads, minPerPart: 64) { range in
            for to in range {
                let row = scratch + to * width
                for j in 0..<k {
                    let ti = to * stride + j - padding
                    if ti < 0 || ti >= t {
                        for c in 0..<cin { row[c * k + j] = 0 }
                    } else {
                        let base = input + ti * timeStride
                        for c in 0..<cin { row[c * k + j] = base[c * channelStride] }
                    }
                }
            }
        }
        linear(x: scratch, ldx: width, rows: tOut, inFeatures: width, weight: weight, bias: bias,
               outFeatures: cout, y: out, ldy: cout)
    }

    // MARK: attention

    /// Multi-head scaled dot-product attention, BLAS per head.
    ///
    /// q [tq, heads*hd] (row stride ldq), k and v [tk, heads*hd] (strides ldk, ldv),
    /// out [tq, heads*hd] (stride ldo). Head h uses columns h*hd ..< (h+1)*hd.
    /// out_h = softmax(q_h k_h^T / sqrt(hd) [+ causal mask]) v_h.
    /// `causalOffset` k: query row i may see keys 0...k+i (decoder self-attention with
    /// k cached positions); nil: no mask. `scores` holds tq*tk floats.
    public func attention(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                          v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                          tq: Int, tk: Int, heads: Int, headDim hd: Int, causalOffset: Int? = nil,
                          scores: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(hd).squareRoot()
        for h in 0..<heads {
            blas.sgemm(transB: true, m: tq, n: tk, k: hd, alpha: scale, a: q + h * hd, lda: ldq,
                       b: k + h * hd, ldb: ldk, c: scores, ldc: tk)
            softmaxRows(scores, rows: tq, cols: tk, ld: tk, causalOffset: causalOffset)
            blas.sgemm(m: tq, n: hd, k: tk, a: scores, lda: tk, b: v + h * hd, ldb: ldv, c: out + h * hd, ldc: ldo)
        }
    }
}

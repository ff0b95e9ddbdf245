import Foundation

extension Compute {
    // MARK: linear

    /// y[n, out] (row stride ldy) = x[n, in] (row stride ldx) * W^T + b,
    /// W stored [out, in] as in PyTorch `nn.Linear.weight`; b [out] or nil.
    /// With `accumulate`, adds to y instead of overwriting (bias still added once).
    public func linear(x: UnsafePointer<Float>, ldx: Int, rows n: Int, inFeatures: Int,
                       weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, outFeatures: Int,
                       y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false) {
        if n <= Compute.skinnyRowLimit {   // decoder steps: see SkinnyLinear.swift
            skinnyLinear(x: x, ldx: ldx, rows: n, inFeatures: inFeatures, weight: w, bias: b, outFeatures: outFeatures,
                         y: y, ldy: ldy, accumulate: accumulate)
            return
        }
        if let b, !accumulate {
            for r in 0..<n { (y + r * ldy).update(from: b, count: outFeatures) }
            sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: w, ldb: inFeatures,
                       beta: 1, c: y, ldc: ldy)
        } else {
            sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: w, ldb: inFeatures,
                       beta: accumulate ? 1 : 0, c: y, ldc: ldy)
            if let b, accumulate {
                for r in 0..<n { let row = y + r * ldy; for j in 0..<outFeatures { row[j] += b[j] } }
            }
        }
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
}

// Layer norm over the last dimension (`nn.LayerNorm`, biased variance; Whisper: eps 1e-5),
// gamma/beta frozen. Checkpoint names: `*_layer_norm.{weight,bias}`,
// `model.{encoder,decoder}.layer_norm.*`.
//
//   y[n,d] = (x - mean) * rstd * gamma + beta,   rstd = 1 / sqrt(var + eps)
//   backward, with xhat = (x - mean) rstd and g = dy * gamma:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))

extension Compute {
    /// out[n, d] = layer norm of x[n, d] per row; `out` may equal `x`. When `mean` and
    /// `rstd` are given ([n] each) the row statistics are recorded there for the backward.
    public func layerNorm(x: UnsafePointer<Float>, rows n: Int, dim d: Int, gamma: UnsafePointer<Float>,
                          beta: UnsafePointer<Float>, eps: Float = 1e-5, out: UnsafeMutablePointer<Float>,
                          mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil) {
        parallelRanges(n, parts: threads, minPerPart: 64) { range in
            for r in range {
                let row = x + r * d, o = out + r * d
                var sum: Float = 0
                for j in 0..<d { sum += row[j] }
                let m = sum / Float(d)
                var sq: Float = 0
                for j in 0..<d { let c = row[j] - m; sq += c * c }
                let inv = 1 / (sq / Float(d) + eps).squareRoot()
                mean?[r] = m; rstd?[r] = inv
                for j in 0..<d { o[j] = (row[j] - m) * inv * gamma[j] + beta[j] }
            }
        }
    }

    /// dx[n, d] from dy[n, d], the forward input x[n, d] and its recorded mean/rstd [n]
    /// (gamma frozen: no parameter gradient). `dx` may equal `dy`.
    public func layerNormBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                  rstd: UnsafePointer<Float>, rows n: Int, dim d: Int, gamma: UnsafePointer<Float>,
                                  dx: UnsafeMutablePointer<Float>) {
        parallelRanges(n, parts: threads, minPerPart: 64) { range in
            for r in range {
                let m = mean[r], rs = rstd[r], gr = dy + r * d, xr = x + r * d, o = dx + r * d
                var sg: Float = 0, sgx: Float = 0
                for j in 0..<d {
                    let g = gr[j] * gamma[j], xh = (xr[j] - m) * rs
                    sg += g; sgx += g * xh
                }
                sg /= Float(d); sgx /= Float(d)
                for j in 0..<d {
                    let g = gr[j] * gamma[j], xh = (xr[j] - m) * rs
                    o[j] = rs * (g - sg - xh * sgx)
                }
            }
        }
    }
}

// GELU with the exact erf form of PyTorch's default and Whisper (`activation_function: gelu`):
//   y = 0.5 x (1 + erf(x / sqrt 2)),   dy/dx = 0.5 (1 + erf(x / sqrt 2)) + x phi(x)
// where phi is the standard normal density. erf and exp are `FastMath`'s (abs. error < 2e-7).

extension Compute {
    /// In place over `count` values of any shape.
    public func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        parallelRanges(count, parts: threads, minPerPart: 1 << 14) { range in
            for i in range {
                let v = x[i]
                x[i] = 0.5 * v * (1 + FastMath.erf(v * 0.70710678118654752))
            }
        }
    }

    /// dx = dy * gelu'(x) over `count` values, x being the forward input; `dx` may equal `dy`.
    public func geluBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        parallelRanges(count, parts: threads, minPerPart: 1 << 14) { range in
            for i in range {
                let v = x[i]
                let cdf = 0.5 * (1 + FastMath.erf(v * 0.70710678118654752))
                let pdf = 0.39894228040143268 * FastMath.exp(-0.5 * v * v)
                dx[i] = dy[i] * (cdf + v * pdf)
            }
        }
    }
}

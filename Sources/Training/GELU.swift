import Tensor

// GELU with the exact erf form used by Whisper (`activation_function: gelu`):
//   y = 0.5 x (1 + erf(x / sqrt 2)),   dy/dx = 0.5 (1 + erf(x / sqrt 2)) + x phi(x)
// where phi is the standard normal density. erf/exp are vexp/verf (FastExp.swift, abs. error < 2e-7).

/// Element-wise forward over any shape.
func geluForward(_ x: [Float]) -> [Float] {
    var y = x
    geluInPlace(&y)
    return y
}

/// In-place forward, for activations that need not be kept (inference paths).
func geluInPlace(_ x: inout [Float]) {
    x.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { let v = p[i]; p[i] = 0.5 * v * (1 + verf(v * 0.70710678118654752)) }
    }
}

/// Backward: dx = dy * gelu'(x), x being the forward input.
func geluBackward(_ dy: [Float], x: [Float]) -> [Float] {
    var dx = uninitializedFloats(x.count)
    dx.withUnsafeMutableBufferPointer { dp in x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { gp in
        for i in 0..<dp.count {
            let v = xp[i]
            let cdf = 0.5 * (1 + verf(v * 0.70710678118654752))
            let pdf = 0.39894228040143268 * vexp(-0.5 * v * v)
            dp[i] = gp[i] * (cdf + v * pdf)
        }
    } } }
    return dx
}

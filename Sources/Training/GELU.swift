import Foundation

// GELU with the exact erf form used by Whisper (`activation_function: gelu`):
//   y = 0.5 x (1 + erf(x / sqrt 2)),   dy/dx = 0.5 (1 + erf(x / sqrt 2)) + x phi(x)
// where phi is the standard normal density.

/// Element-wise forward over any shape.
func geluForward(_ x: [Float]) -> [Float] {
    x.map { v in 0.5 * v * (1 + erf(v * 0.70710678118654752)) }
}

/// In-place forward, for activations that need not be kept (inference paths).
func geluInPlace(_ x: inout [Float]) {
    for i in x.indices { let v = x[i]; x[i] = 0.5 * v * (1 + erf(v * 0.70710678118654752)) }
}

/// Backward: dx = dy * gelu'(x), x being the forward input.
func geluBackward(_ dy: [Float], x: [Float]) -> [Float] {
    var dx = [Float](repeating: 0, count: x.count)
    for i in x.indices {
        let v = x[i]
        let cdf = 0.5 * (1 + erf(v * 0.70710678118654752))
        let pdf = 0.39894228040143268 * exp(-0.5 * v * v)
        dx[i] = dy[i] * (cdf + v * pdf)
    }
    return dx
}

import Tensor

// Row-wise softmax over the last dimension.
//   y[n,c] = exp(x - max) / sum exp(x - max),   dx = y * (dy - sum_c(dy * y))

/// In-place row softmax over `rows` rows of `cols` values starting at `p`.
/// Entries equal to -infinity (masked) get probability 0.
@inline(__always)
func softmaxRowsInPlace(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = p + r * cols
        let mx = vectorMax(row, cols)
        // vexp (FastExp.swift): rel. error < 2e-7 and branch-free, so this loop vectorises;
        // masked -inf entries give ~1e-38 (exp of the clamp), i.e. probability ~0.
        for j in 0..<cols { row[j] = vexp(row[j] - mx) }
        let inv = 1 / vectorSum(row, cols)
        for j in 0..<cols { row[j] *= inv }
    }
}

/// Forward: x [n, c] -> y [n, c].
func softmaxForward(_ x: [Float], rows n: Int, cols c: Int) -> [Float] {
    var y = x
    y.withUnsafeMutableBufferPointer { softmaxRowsInPlace($0.baseAddress!, rows: n, cols: c) }
    return y
}

/// In-place backward: on entry `g` holds dy, on exit dx; `y` is the forward output.
@inline(__always)
func softmaxBackwardInPlace(_ g: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let gr = g + r * cols, yr = y + r * cols
        let dot = vectorDot(gr, yr, cols)
        for j in 0..<cols { gr[j] = yr[j] * (gr[j] - dot) }
    }
}

/// Backward: dy [n, c], y [n, c] -> dx [n, c].
func softmaxBackward(_ dy: [Float], y: [Float], rows n: Int, cols c: Int) -> [Float] {
    var dx = dy
    y.withUnsafeBufferPointer { yp in
        dx.withUnsafeMutableBufferPointer { softmaxBackwardInPlace($0.baseAddress!, y: yp.baseAddress!, rows: n, cols: c) }
    }
    return dx
}

import Foundation

// Row-wise softmax over the last dimension.
//   y[n,c] = exp(x - max) / sum exp(x - max),   dx = y * (dy - sum_c(dy * y))

/// In-place row softmax over `rows` rows of `cols` values starting at `p`.
/// Entries equal to -infinity (masked) get probability 0.
@inline(__always)
func softmaxRowsInPlace(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = p + r * cols
        var mx = -Float.infinity
        for j in 0..<cols where row[j] > mx { mx = row[j] }
        var s: Float = 0
        for j in 0..<cols { let e = exp(row[j] - mx); row[j] = e; s += e }
        let inv = 1 / s
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
        var dot: Float = 0
        for j in 0..<cols { dot += gr[j] * yr[j] }
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

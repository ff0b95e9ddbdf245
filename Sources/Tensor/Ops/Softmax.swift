// Row-wise softmax over the last dimension, with the decoder's causal mask as a count of
// valid columns (masked columns get probability exactly 0).
//   y[n,c] = exp(x - max) / sum exp(x - max),   dx = y * (dy - sum_c(dy * y))

extension Compute {
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

    /// One row: max and sum in `vectorMax`/`vectorSum`'s fixed 16-lane order, exp branch-free,
    /// so every loop here vectorises. Returns the row's max m and s = sum exp(x - m) over the
    /// valid columns: log s + m is its log-normaliser (cross-entropy's -log p_y = m + log s - x_y).
    @inline(__always) @discardableResult
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int, cols: Int) -> (max: Float, sum: Float) {
        let m = vectorMax(row, valid)
        for j in 0..<valid { row[j] = FastMath.exp(row[j] - m) }
        let s = vectorSum(row, valid), inv = 1 / s
        for j in 0..<valid { row[j] *= inv }
        for j in valid..<cols { row[j] = 0 }
        return (m, s)
    }

    /// In place backward per row of g[rows, cols] (row stride ld): on entry dy, on exit dx;
    /// `y` [rows, cols] (stride ld) is the forward output (masked entries 0 stay 0).
    public func softmaxBackwardRows(_ g: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
        parallelRanges(rows, parts: threads, minPerPart: max(1, 8192 / max(cols, 1))) { range in
            for r in range {
                let gr = g + r * ld, yr = y + r * ld
                let dot = vectorDot(gr, yr, cols)
                for j in 0..<cols { gr[j] = yr[j] * (gr[j] - dot) }
            }
        }
    }
}

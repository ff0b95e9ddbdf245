import Foundation

/// Plain, obviously-correct versions of every kernel in `Compute`, on arrays, in f64
/// accumulation where it matters. Tests check the fast kernels against these.
public enum Reference {
    /// C[m,n] = op(A) op(B); A stored [m,k] (or [k,m] if transA), B [k,n] (or [n,k]).
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * m + i] : a[i * k + p]
                let bv = transB ? b[j * k + p] : b[p * n + j]
                s += Double(av) * Double(bv)
            }
            c[i * n + j] = Float(s)
        } }
        return c
    }

    /// y[n, out] = x[n, in] W^T + b, W [out, in].
    public static func linear(_ x: [Float], rows: Int, _ w: [Float], _ b: [Float]?, inFeatures: Int, outFeatures: Int) -> [Float] {
        var y = matmul(x, w, m: rows, n: outFeatures, k: inFeatures, transB: true)
        if let b { for r in 0..<rows { for j in 0..<outFeatures { y[r * outFeatures + j] += b[j] } } }
        return y
    }

    /// Row-wise layer norm of x[rows, d].
    public static func layerNorm(_ x: [Float], rows: Int, dim d: Int, gamma: [Float], beta: [Float], eps: Double = 1e-5) -> [Float] {
        var y = x
        for r in 0..<rows {
            let row = x[(r * d)..<(r * d + d)].map(Double.init)
            let mean = row.reduce(0, +) / Double(d)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
            for j in 0..<d { y[r * d + j] = Float((row[j] - mean) / (variance + eps).squareRoot() * Double(gamma[j]) + Double(beta[j])) }
        }
        return y
    }

    /// Exact GELU with libm's erf in f64.
    public static func gelu(_ x: [Float]) -> [Float] {
        x.map { v in Float(0.5 * Double(v) * (1 + Foundation.erf(Double(v) / 2.0.squareRoot()))) }
    }

    /// Row softmax with optional causal mask (see `Compute.softmaxRows`).
    public static func softmax(_ x: [Float], rows: Int, cols: Int, causalOffset: Int? = nil) -> [Float] {
        var y = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let valid = causalOffset.map { min(cols, $0 + r + 1) } ?? cols
            let row = x[(r * cols)..<(r * cols + valid)].map(Double.init)
            let m = row.max() ?? 0
            let e = row.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            for j in 0..<valid { y[r * cols + j] = Float(e[j] / s) }
        }
        return y
    }

    /// Direct convolution: x [cin, T] channel-major, w [cout, cin, k] -> y [tOut, cout] time-major.
    public static func conv1d(_ x: [Float], inChannels cin: Int, length t: Int, _ w: [Float], _ b: [Float]?,
                              outChannels cout: Int, kernel k: Int, stride: Int, padding: Int) -> [Float] {
        let tOut = (t + 2 * padding - k) / stride + 1
        var y = [Float](repeating: 0, count: tOut * cout)
        for to in 0..<tOut { for o in 0..<cout {
            var s = Double(b?[o] ?? 0)
            for c in 0..<cin { for j in 0..<k {
                let ti = to * stride + j - padding
                if ti >= 0 && ti < t { s += Double(x[c * t + ti]) * Double(w[(o * cin + c) * k + j]) }
            } }
            y[to * cout + o] = Float(s)
        } }
        return y
    }

    /// Multi-head attention on packed q [tq, H*hd], k, v [tk, H*hd] -> [tq, H*hd].
    public static func attention(q: [Float], k: [Float], v: [Float], tq: Int, tk: Int, heads: Int, headDim hd: Int,
                                 causalOffset: Int? = nil) -> [Float] {
        let d = heads * hd
        var out = [Float](repeating: 0, count: tq * d)
        for h in 0..<heads {
            for i in 0..<tq {
                let valid = causalOffset.map { min(tk, $0 + i + 1) } ?? tk
                var s = [Double](repeating: 0, count: valid)
                for j in 0..<valid {
                    var dot = 0.0
                    for c in 0..<hd { dot += Double(q[i * d + h * hd + c]) * Double(k[j * d + h * hd + c]) }
                    s[j] = dot / Double(hd).squareRoot()
                }
                let m = s.max()!
                let e = s.map { Foundation.exp($0 - m) }
                let z = e.reduce(0, +)
                for c in 0..<hd {
                    var acc = 0.0
                    for j in 0..<valid { acc += e[j] / z * Double(v[j * d + h * hd + c]) }
                    out[i * d + h * hd + c] = Float(acc)
                }
            }
        }
        return out
    }

    /// Thin SVD of row-major A [m, n] by one-sided Jacobi rotations in f64: slow and plainly
    /// correct, the reference `BLASLibrary.svd` is checked against. Returns U [m, k], S [k]
    /// descending and Vt [k, n], k = min(m, n).
    public static func svd(_ a: [Float], rows m: Int, cols n: Int) -> (u: [Double], s: [Double], vt: [Double]) {
        if m < n {   // decompose A^T = V S U^T and swap the roles
            var t = [Float](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n { t[j * m + i] = a[i * n + j] } }
            let r = svd(t, rows: n, cols: m)
            let k = m
            var u = [Double](repeating: 0, count: m * k), vt = [Double](repeating: 0, count: k * n)
            for i in 0..<m { for j in 0..<k { u[i * k + j] = r.vt[j * m + i] } }
            for j in 0..<k { for c in 0..<n { vt[j * n + c] = r.u[c * k + j] } }
            return (u, r.s, vt)
        }
        // Columns of w are rotated until pairwise orthogonal; v accumulates the rotations.
        var w = a.map(Double.init)
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<60 {
            var rotated = false
            for p in 0..<n { for q in (p + 1)..<max(n, p + 1) {
                var alpha = 0.0, beta = 0.0, gamma = 0.0
                for i in 0..<m { alpha += w[i * n + p] * w[i * n + p]; beta += w[i * n + q] * w[i * n + q]; gamma += w[i * n + p] * w[i * n + q] }
                if abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() || gamma == 0 { continue }
                rotated = true
                let zeta = (beta - alpha) / (2 * gamma)
                let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                let c = 1 / (1 + t * t).squareRoot(), s = c * t
                for i in 0..<m {
                    let wp = w[i * n + p], wq = w[i * n + q]
                    w[i * n + p] = c * wp - s * wq; w[i * n + q] = s * wp + c * wq
                }
                for i in 0..<n {
                    let vp = v[i * n + p], vq = v[i * n + q]
                    v[i * n + p] = c * vp - s * vq; v[i * n + q] = s * vp + c * vq
                }
            } }
            if !rotated { break }
        }
        var norms = (0..<n).map { j in (0..<m).reduce(0.0) { $0 + w[$1 * n + j] * w[$1 * n + j] }.squareRoot() }
        let order = (0..<n).sorted { norms[$0] > norms[$1] }
        var u = [Double](repeating: 0, count: m * n), vt = [Double](repeating: 0, count: n * n)
        for (k, j) in order.enumerated() {
            for i in 0..<m { u[i * n + k] = norms[j] > 0 ? w[i * n + j] / norms[j] : 0 }
            for i in 0..<n { vt[k * n + i] = v[i * n + j] }
        }
        norms = order.map { norms[$0] }
        return (u, norms, vt)
    }
}

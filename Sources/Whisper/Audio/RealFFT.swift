import Foundation

/// Forward DFT of a real sequence of even length `n`, in f64:
/// X[k] = sum_t x[t] * exp(-2 pi i k t / n) for k = 0 ... n/2.
///
/// Method: pack the real input as n/2 complex values z[t] = x[2t] + i x[2t+1], run a
/// mixed-radix Stockham FFT of length n/2 (radices 4, 2, 3, 5; the Whisper size
/// n = 400 gives 200 = 4 * 2 * 5 * 5), then untangle the even/odd halves:
///   E[k] = (Z[k] + conj Z[n/2-k]) / 2,  O[k] = (Z[k] - conj Z[n/2-k]) / 2i,
///   X[k] = E[k] + exp(-2 pi i k / n) O[k].
/// Cost ~ (n/2) * (4+2+5+5) complex multiply-adds, versus n^2/2 for a DFT matrix.
/// The plan (twiddles) is immutable and shareable; scratch comes from the caller.
public struct RealFFT: Sendable {
    public let n: Int
    private let half: Int
    /// One Stockham stage: radix p over current length len = p * m, stride s.
    private struct Stage: Sendable {
        let p: Int, m: Int, s: Int
        /// exp(-2 pi i j r / len) at [j * p + r], j < m, r < p.
        let twRe: [Double], twIm: [Double]
    }
    private let stages: [Stage]
    /// exp(-2 pi i a / p) for a < p, per distinct radix (index = p).
    private let rootRe: [[Double]], rootIm: [[Double]]
    /// exp(-2 pi i k / n) for k <= n/2 (the untangling twiddle).
    private let postRe: [Double], postIm: [Double]

    /// - Precondition: `n` is even and n/2 factors into 2, 3 and 5.
    public init(n: Int) {
        precondition(n >= 2 && n % 2 == 0, "RealFFT needs an even length, got \(n)")
        self.n = n
        half = n / 2
        var factors: [Int] = []
        var rest = half
        for p in [4, 2, 3, 5] { while rest % p == 0 { factors.append(p); rest /= p } }
        precondition(rest == 1, "RealFFT: n/2 = \(half) must factor into 2, 3, 5")
        var built: [Stage] = []
        var len = half, s = 1
        for p in factors {
            let m = len / p
            var re = [Double](repeating: 0, count: m * p), im = re
            for j in 0..<m { for r in 0..<p {
                let a = -2 * Double.pi * Double(j * r) / Double(len)
                re[j * p + r] = cos(a); im[j * p + r] = sin(a)
            } }
            built.append(Stage(p: p, m: m, s: s, twRe: re, twIm: im))
            len = m; s *= p
        }
        stages = built
        var rr = [[Double]](repeating: [], count: 6), ri = rr
        for p in Set(factors) {
            rr[p] = (0..<p).map { cos(-2 * Double.pi * Double($0) / Double(p)) }
            ri[p] = (0..<p).map { sin(-2 * Double.pi * Double($0) / Double(p)) }
        }
        rootRe = rr; rootIm = ri
        postRe = (0...half).map { cos(-2 * Double.pi * Double($0) / Double(n)) }
        postIm = (0...half).map { sin(-2 * Double.pi * Double($0) / Double(n)) }
    }

    /// Scratch space for one call: 4 * (n/2) doubles.
    public func makeScratch() -> [Double] { [Double](repeating: 0, count: 4 * half) }

    /// Computes X[0...n/2] of `input[0..<n]` into `re`/`im` (each n/2 + 1 long).
    public func forward(_ input: UnsafePointer<Double>, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                        scratch: UnsafeMutablePointer<Double>) {
        // Ping-pong buffers, split real/imaginary.
        var xr = scratch, xi = scratch + half, yr = scratch + 2 * half, yi = scratch + 3 * half
        for t in 0..<half { xr[t] = input[2 * t]; xi[t] = input[2 * t + 1] }
        var ar = (0.0, 0.0, 0.0, 0.0, 0.0), ai = ar  // radix <= 5 inputs
        for st in stages {
            let p = st.p, m = st.m, s = st.s
            let wr = rootRe[p], wi = rootIm[p]
            st.twRe.withUnsafeBufferPointer { twr in st.twIm.withUnsafeBufferPointer { twi in
                for j in 0..<m {
                    for q in 0..<s {
                        // Gather a_k = x[q + s (j + m k)].
                        withUnsafeMutableBytes(of: &ar) { arb in withUnsafeMutableBytes(of: &ai) { aib in
                            let a = arb.bindMemory(to: Double.self), b = aib.bindMemory(to: Double.self)
                            for k in 0..<p { let idx = q + s * (j + m * k); a[k] = xr[idx]; b[k] = xi[idx] }
                            for r in 0..<p {
                                // DFT of size p, output r: sum_k a_k w_p^(r k).
                                var sr = 0.0, si = 0.0
                                for k in 0..<p {
                                    let e = (r * k) % p
                                    sr += a[k] * wr[e] - b[k] * wi[e]
                                    si += a[k] * wi[e] + b[k] * wr[e]
                                }
                                let tr = twr[j * p + r], ti = twi[j * p + r]
                                let out = q + s * (p * j + r)
                                yr[out] = sr * tr - si * ti
                                yi[out] = sr * ti + si * tr
                            }
                        } }
                    }
                }
            } }
            swap(&xr, &yr); swap(&xi, &yi)
        }
        // Untangle: X[k] = E[k] + w^k O[k] with Z[half] = Z[0].
        for k in 0...half {
            let k1 = k == half ? 0 : k, k2 = k == 0 ? 0 : half - k
            let zr = xr[k1], zi = xi[k1], cr = xr[k2], ci = -xi[k2]  // c = conj Z[half - k]
            let er = (zr + cr) / 2, ei = (zi + ci) / 2
            // O = (Z - c) / 2i = (d) * (-i/2): (dr + i di) * (-i) / 2 = (di - i dr) / 2
            let dr = zr - cr, di = zi - ci
            let orr = di / 2, oi = -dr / 2
            re[k] = er + postRe[k] * orr - postIm[k] * oi
            im[k] = ei + postRe[k] * oi + postIm[k] * orr
        }
    }
}

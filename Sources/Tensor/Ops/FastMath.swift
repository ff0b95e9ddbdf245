/// Branch-free exp and erf that LLVM vectorises; used by softmax and GELU, whose
/// transcendental calls dominate the non-BLAS time of the encoder (8 heads x 1500^2
/// exps per layer). Accuracy is checked against libm in TensorTests.
public enum FastMath {
    /// e^x for x in [-87, 88] with relative error < 2e-7; x below -87 returns ~0, NaN
    /// returns NaN. NaN must not reach `Int32(n)` below, which traps on it (a NaN passes
    /// `min`/`max` unchanged): it is swapped for 0 first and restored at the end, two
    /// selects that keep the loop branch-free.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let xc = x.isNaN ? 0 : min(max(x, -87.0), 88.0)
        let n = (xc * 1.442695041).rounded(.toNearestOrEven)
        // Cody-Waite reduction: r = x - n ln2 in two parts for accuracy.
        var r = xc - n * 0.693359375
        r = r + n * 2.12194440e-4
        // exp(r), |r| <= ln2/2: degree-6 Taylor/minimax polynomial.
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * r * r + r + 1
        let bits = UInt32(bitPattern: Int32(n) + 127) << 23
        let y = p * Float(bitPattern: bits)
        return x.isNaN ? x : y
    }

    /// erf(x), absolute error < 2e-7 (Abramowitz & Stegun 7.1.26 refined: we use the
    /// 5-term rational form with exp from above).
    @inline(__always)
    public static func erf(_ x: Float) -> Float {
        let a = abs(x)
        let t = 1 / (1 + 0.3275911 * a)
        var y: Float = 1.061405429
        y = y * t - 1.453152027
        y = y * t + 1.421413741
        y = y * t - 0.284496736
        y = y * t + 0.254829592
        let r = 1 - y * t * exp(-a * a)
        return x < 0 ? -r : r
    }
}

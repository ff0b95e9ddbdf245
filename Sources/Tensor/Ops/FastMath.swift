/// Branch-free exp and erf that LLVM vectorises; used by softmax and GELU (forward and
/// backward, inference and training alike), whose transcendental calls dominate the
/// non-BLAS time of the encoder (8 heads x 1500^2 exps per layer). Accuracy is checked
/// against libm, and exp against the earlier `Int32(n)` formulation, in TensorTests.
public enum FastMath {
    /// e^x for x in [-87, 88] with relative error < 2e-7; x below -87 (and -inf) returns
    /// ~1e-38, above 88 (and +inf) e^88; NaN returns NaN.
    ///
    /// Cody-Waite reduction and a degree-6 polynomial. 2^n is built with wrapping integer
    /// arithmetic (the 1.5 * 2^23 rounding trick) rather than `Int32(n)`: that conversion
    /// traps on overflow or NaN, a branch that stops loops from vectorising (and a NaN once
    /// trapped there). A NaN passes the clamps unchanged (Swift's `min`/`max` keep the first
    /// operand when unordered) and poisons the polynomial, so it comes out as NaN.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let xc = min(max(x, -87.0), 88.0)
        // t = 1.5 * 2^23 + round(x / ln2): the integer n sits in t's low mantissa bits
        // (round to nearest even, as `rounded(.toNearestOrEven)` would give).
        let t = xc * 1.442695041 + 12582912.0
        let n = t - 12582912.0
        // r = x - n ln2, ln2 in two parts for accuracy; |r| <= ln2/2.
        var r = xc - n * 0.693359375
        r = r + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * r * r + r + 1
        let bits = (t.bitPattern &- 0x4B40_0000 &+ 127) << 23
        return p * Float(bitPattern: bits)
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

import Tensor

/// e^x like `FastMath.exp` (same Cody-Waite reduction and polynomial, rel. error < 2e-7),
/// but building 2^n with wrapping integer arithmetic (the 1.5 * 2^23 rounding trick) instead
/// of `Int32(n)`, whose overflow trap is a branch that stops LLVM from vectorising loops.
@inline(__always)
func vexp(_ x: Float) -> Float {
    let xc = min(max(x, -87.0), 88.0)
    // t = 1.5 * 2^23 + round(x / ln2): the integer sits in t's low mantissa bits.
    let t = xc * 1.442695041 + 12582912.0
    let n = t - 12582912.0
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

/// erf(x) as `FastMath.erf` (A&S 7.1.26, abs. error < 2e-7) on top of `vexp`.
@inline(__always)
func verf(_ x: Float) -> Float {
    let a = abs(x)
    let t = 1 / (1 + 0.3275911 * a)
    var y: Float = 1.061405429
    y = y * t - 1.453152027
    y = y * t + 1.421413741
    y = y * t - 0.284496736
    y = y * t + 0.254829592
    let r = 1 - y * t * vexp(-a * a)
    return x < 0 ? -r : r
}

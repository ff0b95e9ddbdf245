// Reductions over contiguous floats, 16 lanes at a time in a fixed order (results are
// reproducible run to run). The scalar loops LLVM leaves alone, since reassociating float
// sums changes their value; these choose one order and vectorise it.

/// A Float array whose contents the caller overwrites completely before reading (GEMM outputs
/// with beta 0). Skips the zero fill: for the encoder's [8, 1500, 1500] attention buffers the
/// memset costs as much as the softmax itself.
@inline(__always)
public func uninitializedFloats(_ n: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
}

/// max over n floats (-infinity for n = 0).
@inline(__always)
public func vectorMax(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var m16 = SIMD16<Float>(repeating: -.infinity)
    let raw = UnsafeRawPointer(p)
    // compare + blend lowers to vector instructions; `pointwiseMax` (NaN-aware) stays scalar.
    while i + 16 <= n {
        let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        m16.replace(with: v, where: v .> m16)
        i += 16
    }
    var m = m16.max()
    while i < n { m = max(m, p[i]); i += 1 }
    return m
}

/// sum over n floats.
@inline(__always)
public func vectorSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var s16 = SIMD16<Float>(repeating: 0)
    let raw = UnsafeRawPointer(p)
    while i + 16 <= n { s16 += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self); i += 16 }
    var s = s16.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// sum of a[i] * b[i] over n floats.
@inline(__always)
public func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var s16 = SIMD16<Float>(repeating: 0)
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 16 <= n {
        s16 += ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    var s = s16.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

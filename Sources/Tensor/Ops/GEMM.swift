// The one matrix product every kernel (runtime and trainer) goes through.
//
// All matrices are row-major. C[m,n] = alpha * op(A) * op(B) + beta * C where op(A) is
// [m,k] (A stored [m,k] with row stride lda, or [k,m] when transposed) and op(B) is [k,n]
// (B stored [k,n], or [n,k] when transposed). Strides larger than the logical width let
// kernels address one attention head inside a [T, d] or fused [T, 3d] matrix.

/// A matrix-product backend. `BLASLibrary` is the one that computes; the protocol exists
/// so a caller can wrap it (the training benchmark times every product through a wrapper).
public protocol GEMMBackend: Sendable {
    /// Row-major C = alpha * op(A) * op(B) + beta * C (shapes as in the file comment).
    func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int)
}

/// OpenBLAS's `cblas_sgemm` has exactly the contract stated above.
extension BLASLibrary: GEMMBackend {}

extension Compute {
    /// C = alpha op(A) op(B) + beta C on `gemm` (see the file comment); empty products
    /// (m or n zero) do nothing, which BLAS would reject for a zero leading dimension.
    @inline(__always)
    public func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Arrays with dense rows: c[m,n] = alpha op(a) op(b) + beta c, a [m,k] (or [k,m]
    /// transposed), b [k,n] (or [n,k] transposed).
    public func matmul(_ a: [Float], transA: Bool = false, _ b: [Float], transB: Bool = false,
                       m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0, into c: inout [Float]) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "matmul: buffers too small for [\(m),\(k)]x[\(k),\(n)]")
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: transA ? m : k,
                  b: bp.baseAddress!, ldb: transB ? k : n, beta: beta, c: cp.baseAddress!, ldc: n)
        } } }
    }
}

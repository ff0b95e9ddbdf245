// Matrix products used by every forward and backward kernel of the trainer.
//
// All matrices are row-major. `gemm` computes C[m,n] = alpha * op(A) * op(B) + beta * C
// where op(A) is [m,k] (A stored [m,k] with leading dimension lda, or [k,m] when
// transposed) and op(B) is [k,n] (B stored [k,n], or [n,k] when transposed).
//
// This is the reference version: plain loops, correct for any strides. The fast path
// (BLAS sgemm through the Tensor module) replaces its body once available and is checked
// against it in tests.

/// A matrix-product backend. The trainer is written against this so the same kernels run
/// on the reference loops (tests, oracle) or on BLAS (the Tensor module's `BLASLibrary`).
public protocol GEMMBackend: Sendable {
    /// Row-major C = alpha * op(A) * op(B) + beta * C (shapes as in the file comment;
    /// `lda`, `ldb`, `ldc` are row strides in elements, which lets kernels address one
    /// attention head inside a [T, d] matrix).
    func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int)
}

/// The plain-loop backend: slow, obviously correct, the oracle for BLAS.
public struct ReferenceGEMM: GEMMBackend {
    public init() {}
    public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        referenceGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

@inline(__always)
func gemm(_ mm: any GEMMBackend, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    mm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
             a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// Plain-loop GEMM with the same contract as `gemm`; the oracle for the fast path.
func referenceGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                   a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                   beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    var row = [Float](repeating: 0, count: n)
    for i in 0..<m {
        for j in 0..<n { row[j] = 0 }
        for p in 0..<k {
            let av = transA ? a[p * lda + i] : a[i * lda + p]
            if av == 0 { continue }
            if transB {
                for j in 0..<n { row[j] += av * b[j * ldb + p] }
            } else {
                let bp = b + p * ldb
                for j in 0..<n { row[j] += av * bp[j] }
            }
        }
        let ci = c + i * ldc
        if beta == 0 {
            for j in 0..<n { ci[j] = alpha * row[j] }
        } else {
            for j in 0..<n { ci[j] = alpha * row[j] + beta * ci[j] }
        }
    }
}

/// Convenience over arrays: C[m,n] (+)= op(A) op(B) with dense leading dimensions.
func matmul(_ mm: any GEMMBackend, _ a: [Float], transA: Bool = false, _ b: [Float], transB: Bool = false,
            m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0, into c: inout [Float]) {
    precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "matmul: buffers too small for [\(m),\(k)]x[\(k),\(n)]")
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                gemm(mm, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                     a: ap.baseAddress!, lda: transA ? m : k, b: bp.baseAddress!, ldb: transB ? k : n,
                     beta: beta, c: cp.baseAddress!, ldc: n)
            }
        }
    }
}

import Foundation
import Synchronization
import Tensor

/// A GEMM backend that forwards to another and accumulates the time spent in matrix products,
/// so the bench can split a step into BLAS time and everything else.
final class TimedGEMM: GEMMBackend, @unchecked Sendable {
    let inner: any GEMMBackend
    let nanos = Atomic<Int>(0)
    let flops = Atomic<Int>(0)
    init(_ inner: any GEMMBackend) { self.inner = inner }
    func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let t = DispatchTime.now().uptimeNanoseconds
        inner.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        nanos.add(Int(DispatchTime.now().uptimeNanoseconds - t), ordering: .relaxed)
        flops.add(2 * m * n * k, ordering: .relaxed)
    }
}

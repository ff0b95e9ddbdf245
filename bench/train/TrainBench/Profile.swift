import Foundation
import Synchronization
import Tensor

/// A GEMM backend that forwards to another and accumulates the time spent in matrix products,
/// so the bench can split a step into BLAS time and everything else.
final class TimedGEMM: GEMMBackend, @unchecked Sendable {
    let inner: any GEMMBackend
    let nanos = Atomic<Int>(0)
    let flops = Atomic<Int>(0)
    /// Seconds and calls per product shape ("NT m x n x k"), for the profile's table.
    let shapes = Mutex<[String: (seconds: Double, calls: Int, flops: Int)]>([:])
    init(_ inner: any GEMMBackend) { self.inner = inner }
    func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let t = DispatchTime.now().uptimeNanoseconds
        inner.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        let spent = Int(DispatchTime.now().uptimeNanoseconds - t)
        nanos.add(spent, ordering: .relaxed)
        flops.add(2 * m * n * k, ordering: .relaxed)
        let key = "\(transA ? "T" : "N")\(transB ? "T" : "N") \(m)x\(n)x\(k)"
        shapes.withLock { table in
            let old = table[key] ?? (0, 0, 0)
            table[key] = (old.seconds + Double(spent) * 1e-9, old.calls + 1, old.flops + 2 * m * n * k)
        }
    }
}

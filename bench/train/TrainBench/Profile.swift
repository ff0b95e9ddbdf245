import Foundation
import Synchronization
import Tensor

/// A GEMM backend that forwards to another and accumulates the time spent in matrix products
/// by shape, so the bench can split a step into BLAS time and everything else and list the
/// shapes that run below the linears' rate.
final class TimedGEMM: GEMMBackend, @unchecked Sendable {
    struct Shape: Hashable {
        let transA: Bool, transB: Bool, m: Int, n: Int, k: Int
        var flops: Int { 2 * m * n * k }
        var name: String { "\(transA ? "T" : "N")\(transB ? "T" : "N") \(m)x\(n)x\(k)" }
    }
    let inner: any GEMMBackend
    /// Nanoseconds and calls per shape since the last `reset`.
    let table = Mutex<[Shape: (nanos: Int, calls: Int)]>([:])
    init(_ inner: any GEMMBackend) { self.inner = inner }
    func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let t = DispatchTime.now().uptimeNanoseconds
        inner.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        let spent = Int(DispatchTime.now().uptimeNanoseconds - t)
        let shape = Shape(transA: transA, transB: transB, m: m, n: n, k: k)
        table.withLock { table in
            let old = table[shape] ?? (0, 0)
            table[shape] = (old.nanos + spent, old.calls + 1)
        }
    }
    func reset() { table.withLock { $0 = [:] } }
    /// (shape, seconds, calls), slowest first.
    var shapes: [(shape: Shape, seconds: Double, calls: Int)] {
        table.withLock { $0 }.map { ($0.key, Double($0.value.nanos) * 1e-9, $0.value.calls) }.sorted { $0.seconds > $1.seconds }
    }
}

/// The fast kernels: BLAS for matrix products plus threaded element-wise loops.
///
/// Every kernel works on raw row-major buffers and states its shapes; `Reference`
/// holds the plain versions each one is tested against. A `Compute` is cheap to copy
/// and `Sendable`; it carries the loaded BLAS, the matrix-product backend every kernel
/// calls (BLAS itself unless a caller wraps it, e.g. to time products), and the thread
/// count for element-wise work. The runtime and the trainer share these kernels.
public struct Compute: Sendable {
    public let blas: BLASLibrary
    /// What `sgemm` (and so every kernel's matrix product) runs on.
    public let gemm: any GEMMBackend
    /// Threads for element-wise kernels (softmax, GELU, layer norm, im2col). The trainer,
    /// which runs utterances concurrently, passes 1.
    public let threads: Int

    public init(blas: BLASLibrary, threads: Int = 2, gemm: (any GEMMBackend)? = nil) {
        self.blas = blas; self.threads = max(1, threads); self.gemm = gemm ?? blas
    }

    /// The same kernels with another element-wise thread count.
    public func with(threads: Int) -> Compute { Compute(blas: blas, threads: threads, gemm: gemm) }
}

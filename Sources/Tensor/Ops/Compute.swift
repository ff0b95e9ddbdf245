/// The fast kernels: BLAS for matrix products plus threaded element-wise loops.
///
/// Every kernel works on raw row-major buffers and states its shapes; `Reference`
/// holds the plain versions each one is tested against. A `Compute` is cheap to copy
/// and `Sendable`; it carries the loaded BLAS and the thread count for element-wise work.
public struct Compute: Sendable {
    public let blas: BLASLibrary
    /// Threads for element-wise kernels (softmax, GELU, layer norm, im2col).
    public let threads: Int

    public init(blas: BLASLibrary, threads: Int = 2) {
        self.blas = blas; self.threads = max(1, threads)
    }
}

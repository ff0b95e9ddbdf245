import Tensor

/// The shared kernels every training test runs on: OpenBLAS (the trainer's only matrix
/// backend; Tensor's tests check it against the plain reference), element-wise on one thread.
let testCompute: Compute = {
    do { return Compute(blas: try BLASLibrary.load(coreType: .automatic, threads: 1), threads: 1) } catch {
        fatalError("OpenBLAS is needed by the training tests: \(error); install libopenblas0 (scripts/setup.sh)")
    }
}()

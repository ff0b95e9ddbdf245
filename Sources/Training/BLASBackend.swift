import Tensor

/// The Tensor module's OpenBLAS is the trainer's fast matrix-product backend; its `sgemm`
/// has exactly the row-major contract `GEMMBackend` states, so conformance is declarative.
extension BLASLibrary: GEMMBackend {}

import Eval
import OCI
import Store
import Tensor
import Training

// The types of the lower layers that the facade's API takes or returns, named here so that a
// client (the `glossa` CLI) imports `Glossa` alone and never reaches around it.

/// The compute backend (OpenBLAS plus Tensor's kernels) every model call takes: Tensor's
/// `Compute` (that module's struct `Tensor` hides the module name, so this alias cannot
/// keep the name).
public typealias ComputeBackend = Compute
/// Hyper-parameters of an expert's LoRA training (`ExpertTraining`).
public typealias TrainingConfig = Training.TrainingConfig
/// Which linears an adapter covers (`TrainingConfig.scope`).
public typealias AdapterScope = Training.AdapterScope
/// Temperature and cross-entropy weight of `compose --method distill`.
public typealias DistillationConfig = Training.DistillationConfig
/// Per module or per layer fusion weights of `compose --method learned`.
public typealias FusionGranularity = Training.FusionGranularity
/// A query over the registry's artifacts (`Registry.list`).
public typealias ArtifactFilter = Store.ArtifactFilter
/// Markdown and text renderings of an evaluation report.
public typealias ReportRendering = Eval.ReportRendering
/// Credentials for OCI registries (`Remote.credentials(for:)`).
public typealias CredentialsProvider = OCI.CredentialsProvider

extension ComputeBackend {
    /// OpenBLAS on `threads` threads with the named kernel core (`--blas-core`, e.g. HASWELL),
    /// or the one the CPU reports when nil.
    public static func load(threads: Int, blasCore: String?) throws(GlossaError) -> ComputeBackend {
        let choice: BLASLibrary.CoreTypeChoice = blasCore.map { .named($0) } ?? .automatic
        do {
            return Compute(blas: try BLASLibrary.load(coreType: choice, threads: threads), threads: threads)
        } catch {
            throw GlossaError(.failure, "Cannot load OpenBLAS: \(error). Install it with scripts/setup.sh (Debian package libopenblas-dev).")
        }
    }
}

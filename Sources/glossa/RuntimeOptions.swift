import ArgumentParser
import Foundation
import Glossa

/// Options shared by every command that runs the Whisper model.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for BLAS and element-wise kernels.")
    var threads: Int = 2

    @Option(name: .long, help: ArgumentHelp(
        "OpenBLAS core type (e.g. SkylakeX, Haswell). Default: $OPENBLAS_CORETYPE if set, else chosen from CPUID.",
        valueName: "CORE"))
    var blasCore: String?

    @Flag(name: .shortAndLong, help: "Log details (BLAS kernel in use, timings) to stderr.")
    var verbose = false

    /// The compute for many clips on --threads workers (`BatchedWorkers`): one worker per
    /// thread, so BLAS runs single-threaded in each.
    func workerCompute() throws -> ComputeBackend { try load(blasThreads: 1) }

    func compute() throws -> ComputeBackend { try load(blasThreads: threads) }

    /// The compute for training (train, compose): glibc's allocator keeps freed memory for the
    /// next step (`AllocatorTuning.forTraining`). The settings for many clips map every buffer
    /// over 1 MB afresh, and a training step frees and reallocates hundreds of MB of tape each
    /// step: the whisper-base LoRA step (`bench/train`, enc_dec, batch 4) took 8.51 s with them
    /// and 7.65 s with glibc's defaults (and the defaults lose about a tenth to `forTraining`).
    func trainingCompute() throws -> ComputeBackend {
        AllocatorTuning.forTraining()
        return try load(blasThreads: threads, tuneAllocator: false)
    }

    private func load(blasThreads: Int, tuneAllocator: Bool = true) throws -> ComputeBackend {
        if tuneAllocator { AllocatorTuning.forModelWork(workers: threads) }
        let compute: ComputeBackend
        do { compute = try ComputeBackend.load(threads: blasThreads, blasCore: blasCore) } catch { throw CLIError(error) }
        if verbose { Console.log("glossa: \(compute.blas.info)") }
        return compute
    }
}

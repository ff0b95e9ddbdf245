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

    private func load(blasThreads: Int) throws -> ComputeBackend {
        AllocatorTuning.forModelWork(workers: threads)
        let compute: ComputeBackend
        do { compute = try ComputeBackend.load(threads: blasThreads, blasCore: blasCore) } catch { throw CLIError(error) }
        if verbose { Console.log("glossa: \(compute.blas.info)") }
        return compute
    }
}

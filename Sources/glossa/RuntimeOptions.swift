import ArgumentParser
import Foundation
import Glossa
import Tensor

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
    func workerCompute() throws -> Compute {
        var single = self
        single.threads = 1
        return try single.compute()
    }

    func compute() throws -> Compute {
        let choice: BLASLibrary.CoreTypeChoice = blasCore.map { .named($0) } ?? .automatic
        let blas: BLASLibrary
        do { blas = try BLASLibrary.load(coreType: choice, threads: threads) } catch {
            throw CLIError(GlossaError(.failure, "Cannot load OpenBLAS: \(error). Install it with scripts/setup.sh (Debian package libopenblas-dev)."))
        }
        if verbose { Console.log("glossa: \(blas.info)") }
        return Compute(blas: blas, threads: threads)
    }
}

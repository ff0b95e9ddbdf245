import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A loaded OpenBLAS: resolved entry points plus what kernel actually runs.
///
/// OpenBLAS is opened with `dlopen` (the CBLAS target links nothing) because its core type
/// is read from `OPENBLAS_CORETYPE` only while the library initialises, and Debian's
/// OpenBLAS 0.3.21 misdetects AVX-512 CPUs here as Prescott. Loading it ourselves lets us
/// set the core type from CPUID first. Pass the value to whatever needs BLAS; it is an
/// immutable `Sendable` bundle of function pointers.
///
/// dlopen and the library's thread count are process-wide, so the one piece of process
/// state lives in `OpenBLASProcess` (below) and nowhere else.
public struct BLASLibrary: Sendable {
    /// How to pick OpenBLAS's core type.
    public enum CoreTypeChoice: Sendable, Equatable {
        /// Respect an `OPENBLAS_CORETYPE` already present in the process environment (an
        /// explicit user choice); otherwise choose from CPUID (AVX-512 -> SkylakeX,
        /// AVX2 -> Haswell, else OpenBLAS's own detection).
        case automatic
        /// Use this OpenBLAS core name (e.g. "Haswell"), overriding the environment.
        case named(String)
        /// Do not set anything; OpenBLAS detects (may be slow on this machine).
        case libraryDefault
    }

    /// Where the core type in effect came from.
    public enum CoreTypeSource: String, Sendable {
        case environment, cpuid, caller, library
        /// The library was already loaded in this process before this call.
        case alreadyLoaded
    }

    /// What runs: reported by `--verbose` and by the bench.
    public struct Info: Sendable, CustomStringConvertible {
        /// `openblas_get_corename()`, e.g. "SkylakeX"; the kernel that actually runs.
        public let coreName: String
        /// The core type requested before loading (nil: none requested).
        public let requestedCoreType: String?
        public let source: CoreTypeSource
        public let threads: Int
        public let path: String
        public let simd: SIMDLevel
        /// `OPENBLAS_THREAD_TIMEOUT` as the library read it: an idle worker spins 2^value
        /// cycles before it sleeps (nil: the library's default, 28).
        public let threadTimeout: String?
        public var description: String {
            "OpenBLAS \(path): core \(coreName) (requested \(requestedCoreType ?? "none"), from \(source.rawValue)), \(threads) threads"
                + ", idle workers sleep after 2^\(threadTimeout ?? "28") cycles, CPU \(simd)"
        }
    }

    typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                      UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                      Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SGEMV = @convention(c) (Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetThreads = @convention(c) () -> Int32
    typealias CoreName = @convention(c) () -> UnsafeMutablePointer<CChar>?
    /// LAPACK `sgesdd_` (Fortran ABI: every argument by pointer, then the hidden length of
    /// the `jobz` string).
    typealias SGESDD = @convention(c) (UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>,
                                       UnsafeMutablePointer<Float>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>,
                                       UnsafeMutablePointer<Float>?, UnsafePointer<Int32>, UnsafeMutablePointer<Float>?,
                                       UnsafePointer<Int32>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>,
                                       UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, Int) -> Void

    let sgemmFn: SGEMM
    let sgemvFn: SGEMV
    let setThreadsFn: SetThreads
    let getThreadsFn: GetThreads
    /// nil when the loaded library has no LAPACK (Debian's OpenBLAS has it).
    let sgesddFn: SGESDD?
    /// Load-time facts; `threads` is refreshed by `currentInfo`.
    public let info: Info

    /// Loads OpenBLAS (once per process) and sets its thread count.
    ///
    /// - Parameters:
    ///   - coreType: see `CoreTypeChoice`. Ignored (and reported as `.alreadyLoaded`) if the
    ///     library was loaded earlier in this process: OpenBLAS cannot change kernels later.
    ///   - threads: OpenBLAS worker threads (process-wide setting).
    ///   - path: library name or path for `dlopen`.
    public static func load(coreType: CoreTypeChoice = .automatic, threads: Int = 2,
                            path: String = "libopenblas.so.0") throws(BLASError) -> BLASLibrary {
        let loaded = try OpenBLASProcess.open(path: path, coreType: coreType)
        func sym<T>(_ name: String, _ type: T.Type) throws(BLASError) -> T {
            guard let p = dlsym(loaded.handle, name) else { throw .missingSymbol(name, path: path) }
            return unsafeBitCast(p, to: type)
        }
        let setThreads = try sym("openblas_set_num_threads", SetThreads.self)
        let getThreads = try sym("openblas_get_num_threads", GetThreads.self)
        let coreName = try sym("openblas_get_corename", CoreName.self)
        setThreads(Int32(max(1, threads)))
        let name = coreName().map { String(cString: $0) } ?? "unknown"
        let info = Info(coreName: name, requestedCoreType: loaded.requested, source: loaded.source,
                        threads: Int(getThreads()), path: path, simd: .current, threadTimeout: loaded.threadTimeout)
        let sgesdd = dlsym(loaded.handle, "sgesdd_").map { unsafeBitCast($0, to: SGESDD.self) }
        return BLASLibrary(sgemmFn: try sym("cblas_sgemm", SGEMM.self), sgemvFn: try sym("cblas_sgemv", SGEMV.self),
                           setThreadsFn: setThreads, getThreadsFn: getThreads, sgesddFn: sgesdd, info: info)
    }

    /// Sets OpenBLAS's (process-wide) worker thread count.
    public func setThreads(_ n: Int) { setThreadsFn(Int32(max(1, n))) }
    /// OpenBLAS's current worker thread count.
    public var threads: Int { Int(getThreadsFn()) }

    /// Row-major C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C.
    /// `op(X)` is X or X^T; `lda`/`ldb`/`ldc` are the row strides of the stored matrices
    /// (A stored [m,k] or, transposed, [k,m]).
    @inline(__always)
    public func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        sgemmFn(101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Row-major y[m] (or y[n] with `trans`) = alpha * op(A) x + beta * y, A stored [m, n].
    @inline(__always)
    public func sgemv(trans: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        sgemvFn(101, trans ? 112 : 111, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
}

/// Errors from loading BLAS.
public enum BLASError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case missingSymbol(String, path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot load OpenBLAS from \(path): \(reason); install it with `apt-get install libopenblas0-pthread` (scripts/setup.sh does)"
        case .missingSymbol(let name, let path):
            return "OpenBLAS at \(path) lacks symbol \(name); it is not OpenBLAS or too old (need >= 0.3)"
        }
    }
}

/// The process-wide part of OpenBLAS, isolated here: `dlopen` handles and the
/// `OPENBLAS_CORETYPE` variable belong to the process, and OpenBLAS reads the variable only
/// the first time it is loaded. This type sets the variable (once) before that first load
/// and remembers the handle so later loads report `.alreadyLoaded` truthfully.
///
/// It reads the environment for one reason: OpenBLAS itself will obey an
/// `OPENBLAS_CORETYPE` or `OPENBLAS_THREAD_TIMEOUT` that is already set, so neither may
/// silently replace a user's explicit choice.
enum OpenBLASProcess {
    struct Loaded: @unchecked Sendable {
        let handle: UnsafeMutableRawPointer
        let requested: String?
        let source: BLASLibrary.CoreTypeSource
        /// `OPENBLAS_THREAD_TIMEOUT` when the library was opened: the value it read.
        let threadTimeout: String?
    }

    private static let state = Mutex<[String: Loaded]>([:])
    /// log2 of the cycles an idle OpenBLAS worker spins before sleeping (OpenBLAS clamps it
    /// to 4...30; its default is 28), set in `threadTimeoutVariable` unless the user did.
    static let threadTimeout = "4"
    static let threadTimeoutVariable = "OPENBLAS_THREAD_TIMEOUT"

    static func open(path: String, coreType: BLASLibrary.CoreTypeChoice) throws(BLASError) -> Loaded {
        let result: Result<Loaded, BLASError> = state.withLock { cache in
            if let l = cache[path] {
                return .success(Loaded(handle: l.handle, requested: l.requested, source: .alreadyLoaded, threadTimeout: l.threadTimeout))
            }
            let existing = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
            var requested: String?
            var source: BLASLibrary.CoreTypeSource
            switch coreType {
            case .named(let n):
                requested = n; source = .caller
            case .libraryDefault:
                requested = existing; source = existing == nil ? .library : .environment
            case .automatic:
                if let e = existing, !e.isEmpty { requested = e; source = .environment }
                else if let c = SIMDLevel.current.openBLASCoreType { requested = c; source = .cpuid }
                else { requested = nil; source = .library }
            }
            if let r = requested, source != .environment { setenv("OPENBLAS_CORETYPE", r, 1) }
            // Without a setting, each OpenBLAS worker spins on sched_yield for 2^28 cycles
            // (about 0.1 s) after every BLAS call before it sleeps. Between BLAS calls our own
            // kernels (`Compute`: softmax, GELU, the decoder's streaming linears) run on both
            // cores, so that spin took a core from them: greedy decoding of 27 windows spent
            // 10-12 s of system time in sched_yield. 2^4 cycles puts the worker to sleep at
            // once; waking it costs a few microseconds per BLAS call. A user's value stands.
            setenv(threadTimeoutVariable, threadTimeout, 0)   // 0: an existing value stays
            let timeout = getenv(threadTimeoutVariable).map { String(cString: $0) }
            guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
                return .failure(.cannotOpen(path: path, reason: reason))
            }
            let l = Loaded(handle: h, requested: requested, source: source, threadTimeout: timeout)
            cache[path] = l
            return .success(l)
        }
        return try result.get()
    }
}

import XCTest
@testable import Tensor

final class BLASLibraryTests: XCTestCase {
    func testLoadReportsKernelAndThreads() throws {
        let info = sharedBLAS.info
        XCTAssertFalse(info.coreName.isEmpty)
        XCTAssertGreaterThanOrEqual(info.threads, 1)
        print("BLAS:", info)
        // When the CPU has AVX-512 and nothing else was requested, we asked for SkylakeX and
        // OpenBLAS must have honoured it (this is the misdetection the loader exists for).
        if info.source == .cpuid, let req = info.requestedCoreType {
            XCTAssertEqual(info.coreName.lowercased(), req.lowercased())
        }
        // A second load cannot change kernels and says so.
        let again = try BLASLibrary.load(coreType: .named("Prescott"), threads: 2)
        XCTAssertEqual(again.info.source, .alreadyLoaded)
        XCTAssertEqual(again.info.coreName, info.coreName)
    }

    /// After a threaded BLAS call the idle worker must sleep, not spin: OpenBLAS's default
    /// spins 2^28 cycles (about 0.1 s) on sched_yield, taking a core from the `Compute`
    /// kernels that run between BLAS calls. The loader sets OPENBLAS_THREAD_TIMEOUT to 4.
    /// Measured as the process's CPU time over 200 ms of idling right after a product: about
    /// 0.1 s with the library's default (checked by running with OPENBLAS_THREAD_TIMEOUT=28),
    /// near 0 with the loader's setting.
    func testIdleWorkersSleepRightAfterACall() {
        XCTAssertEqual(sharedBLAS.info.threadTimeout, OpenBLASProcess.threadTimeout)
        XCTAssertTrue(sharedBLAS.info.description.contains("idle workers sleep after 2^4 cycles"), sharedBLAS.info.description)
        func cpuSeconds() -> Double {
            var u = rusage()
            getrusage(RUSAGE_SELF.rawValue, &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        }
        var rng = SeededRandom(seed: 3)
        let n = 512   // large enough for OpenBLAS to use its worker
        let a = rng.floats(n * n), b = rng.floats(n * n)
        var c = [Float](repeating: 0, count: n * n)
        var idle = [Double]()
        for _ in 0..<3 {
            c.withUnsafeMutableBufferPointer { cp in
                sharedBLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: cp.baseAddress!, ldc: n)
            }
            let before = cpuSeconds()
            usleep(200_000)
            idle.append(cpuSeconds() - before)
        }
        XCTAssertLessThan(idle.min()!, 0.03, "CPU seconds burnt while idle after a BLAS call: \(idle)")
    }

    func testMissingLibraryIsATypedError() {
        XCTAssertThrowsError(try BLASLibrary.load(path: "libdoes-not-exist.so.9")) { error in
            guard case BLASError.cannotOpen(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "libdoes-not-exist.so.9")
        }
    }

    /// Random shapes, all four transpose combinations, strided leading dims, alpha/beta.
    func testSgemmMatchesNaiveReference() {
        var rng = SeededRandom(seed: 42)
        for trial in 0..<40 {
            let m = rng.int(1...70), n = rng.int(1...70), k = rng.int(1...90)
            let ta = trial % 2 == 1, tb = (trial / 2) % 2 == 1
            let a = rng.floats(m * k), b = rng.floats(k * n), c0 = rng.floats(m * n)
            let alpha: Float = trial % 3 == 0 ? 1 : 0.7, beta: Float = trial % 5 == 0 ? 0.5 : 0
            var c = c0
            c.withUnsafeMutableBufferPointer { cp in
                sharedBLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: ta ? m : k,
                                 b: b, ldb: tb ? k : n, beta: beta, c: cp.baseAddress!, ldc: n)
            }
            let ref = Reference.matmul(a, b, m: m, n: n, k: k, transA: ta, transB: tb)
            let expect = (0..<(m * n)).map { alpha * ref[$0] + beta * c0[$0] }
            XCTAssertLessThan(maxAbsError(c, expect), 1e-4 * Float(k), "m\(m) n\(n) k\(k) ta\(ta) tb\(tb)")
        }
        // One large product to exercise the threaded, blocked kernels.
        let m = 300, n = 257, k = 513
        let a = rng.floats(m * k), b = rng.floats(n * k)
        var c = [Float](repeating: 0, count: m * n)
        c.withUnsafeMutableBufferPointer { cp in
            sharedBLAS.sgemm(transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: cp.baseAddress!, ldc: n)
        }
        XCTAssertLessThan(relMaxError(c, Reference.matmul(a, b, m: m, n: n, k: k, transB: true)), 1e-5)
    }

    func testSgemvMatchesReference() {
        var rng = SeededRandom(seed: 7)
        let m = 37, n = 53
        let a = rng.floats(m * n), x = rng.floats(n), xt = rng.floats(m)
        var y = [Float](repeating: 0, count: m), yt = [Float](repeating: 0, count: n)
        y.withUnsafeMutableBufferPointer { sharedBLAS.sgemv(m: m, n: n, a: a, lda: n, x: x, y: $0.baseAddress!) }
        yt.withUnsafeMutableBufferPointer { sharedBLAS.sgemv(trans: true, m: m, n: n, a: a, lda: n, x: xt, y: $0.baseAddress!) }
        XCTAssertLessThan(maxAbsError(y, Reference.matmul(a, x, m: m, n: 1, k: n)), 1e-4)
        XCTAssertLessThan(maxAbsError(yt, Reference.matmul(a, xt, m: n, n: 1, k: m, transA: true)), 1e-4)
    }

    func testGEMMProbeMeasuresSomething() {
        let r = GEMMProbe.measure(sharedBLAS, m: 256, n: 256, k: 256, repeats: 2)
        print(r)
        XCTAssertGreaterThan(r.gflops, 0.1)
    }
}

import Foundation

/// Measures sustained sgemm throughput (the "peak" the bench compares the encoder with).
public enum GEMMProbe {
    public struct Result: Sendable, CustomStringConvertible {
        public let m: Int, n: Int, k: Int
        public let seconds: Double
        public let gflops: Double
        public var description: String { String(format: "sgemm %dx%dx%d: %.1f GFLOPS (%.2f ms/call)", m, n, k, gflops, seconds * 1e3) }
    }

    /// Best of `repeats` timed C[m,n] = A[m,k] B[k,n] after one warm-up call.
    public static func measure(_ blas: BLASLibrary, m: Int = 1500, n: Int = 2048, k: Int = 512, repeats: Int = 5) -> Result {
        let a = (0..<(m * k)).map { Float(($0 % 97)) * 0.01 }
        let b = (0..<(k * n)).map { Float(($0 % 89)) * 0.01 }
        var c = [Float](repeating: 0, count: m * n)
        var best = Double.infinity
        for i in 0...repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            c.withUnsafeMutableBufferPointer { cp in
                blas.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: cp.baseAddress!, ldc: n)
            }
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if i > 0 { best = min(best, dt) }
        }
        return Result(m: m, n: n, k: k, seconds: best, gflops: 2 * Double(m) * Double(n) * Double(k) / best / 1e9)
    }
}

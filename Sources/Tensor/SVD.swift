/// Thin singular value decomposition A = U diag(S) Vt of a row-major A [m, n], k = min(m, n).
///
/// The composer truncates weight deltas with it: the best rank-r approximation of A in the
/// Frobenius norm keeps the first r singular triplets (Eckart-Young), and the relative error
/// of that truncation is sqrt(sum_{i>=r} S_i^2 / sum_i S_i^2).
public struct SVD: Sendable, Equatable {
    /// Left singular vectors, row-major [m, k].
    public var u: [Float]
    /// Singular values, descending, [k].
    public var s: [Float]
    /// Right singular vectors transposed, row-major [k, n].
    public var vt: [Float]
    public let rows: Int
    public let cols: Int
    public var k: Int { s.count }

    public init(u: [Float], s: [Float], vt: [Float], rows: Int, cols: Int) {
        self.u = u; self.s = s; self.vt = vt; self.rows = rows; self.cols = cols
    }

    /// Relative Frobenius error of keeping the first `rank` triplets, in [0, 1]
    /// (Double accumulation; 0 for a zero matrix).
    public func truncationError(rank: Int) -> Double {
        var total = 0.0, dropped = 0.0
        for (i, v) in s.enumerated() {
            let e = Double(v) * Double(v)
            total += e
            if i >= rank { dropped += e }
        }
        return total > 0 ? (dropped / total).squareRoot() : 0
    }

    /// The rank-`rank` factors with the singular values split evenly: B = U_r sqrt(S_r) [m, r]
    /// and A = sqrt(S_r) Vt_r [r, n], so B A is the truncated matrix and neither factor
    /// carries all the scale (a balanced start for training a LoRA from it).
    public func balancedFactors(rank: Int) -> (b: [Float], a: [Float]) {
        let r = min(rank, k)
        var b = [Float](repeating: 0, count: rows * rank)
        var a = [Float](repeating: 0, count: rank * cols)
        for j in 0..<r {
            let root = s[j].squareRoot()
            for i in 0..<rows { b[i * rank + j] = u[i * k + j] * root }
            for c in 0..<cols { a[j * cols + c] = vt[j * cols + c] * root }
        }
        return (b, a)
    }
}

public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable {
    case lapackMissing(path: String)
    case nonFinite(String)
    case noConvergence(String, info: Int)
    case badShape(String)

    public var description: String {
        switch self {
        case .lapackMissing(let p):
            return "\(p) has no LAPACK (sgesdd_); install Debian's libopenblas0-pthread / libopenblas-dev (scripts/setup.sh)"
        case .nonFinite(let what): return "\(what) contains NaN or infinity; cannot decompose it"
        case .noConvergence(let what, let info): return "SVD of \(what) did not converge (LAPACK info \(info))"
        case .badShape(let what): return what
        }
    }
}

extension BLASLibrary {
    /// Thin SVD of row-major `a` [m, n] with LAPACK's divide-and-conquer `sgesdd`.
    ///
    /// LAPACK is column-major, so it sees the buffer as X = A^T [n, m]. With X = U' S V'^T we
    /// have A = V' S U'^T, and the buffers LAPACK writes already are what we want: its `vt`
    /// (V'^T, k x m column-major) is A's U as row-major [m, k], and its `u` (U', n x k
    /// column-major) is A's Vt as row-major [k, n].
    public func svd(_ a: [Float], rows m: Int, cols n: Int, what: String = "matrix") throws(LinearAlgebraError) -> SVD {
        guard m > 0, n > 0, a.count == m * n else { throw .badShape("\(what): \(a.count) values for [\(m), \(n)]") }
        guard let fn = sgesddFn else { throw .lapackMissing(path: info.path) }
        guard a.allSatisfy(\.isFinite) else { throw .nonFinite(what) }
        let k = min(m, n)
        var x = a
        var s = [Float](repeating: 0, count: k)
        var lapackU = [Float](repeating: 0, count: n * k)    // becomes Vt [k, n]
        var lapackVt = [Float](repeating: 0, count: k * m)   // becomes U [m, k]
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var mm = Int32(n), nn = Int32(m), lda = Int32(n), ldu = Int32(n), ldvt = Int32(k)
        var info: Int32 = 0
        var query: Float = 0
        var lwork: Int32 = -1
        let jobz: [CChar] = [CChar(UInt8(ascii: "S")), 0]
        // Workspace query, then the decomposition.
        fn(jobz, &mm, &nn, &x, &lda, &s, &lapackU, &ldu, &lapackVt, &ldvt, &query, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw .noConvergence(what, info: Int(info)) }
        lwork = Int32(query.rounded(.up)) + 1
        var work = [Float](repeating: 0, count: Int(lwork))
        fn(jobz, &mm, &nn, &x, &lda, &s, &lapackU, &ldu, &lapackVt, &ldvt, &work, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw .noConvergence(what, info: Int(info)) }
        return SVD(u: lapackVt, s: s, vt: lapackU, rows: m, cols: n)
    }
}

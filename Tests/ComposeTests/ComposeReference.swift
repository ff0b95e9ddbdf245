import Foundation
import GlossaCore
import Tensor
@testable import Compose

/// Plain versions of the composer's methods, in Double with naive loops and a Jacobi SVD,
/// written from the definitions in StaticFusion.swift and SharedSplit.swift.
enum ComposeReference {
    /// s * B A, [out, in].
    static func delta(_ p: LoRAPair) -> [Double] {
        let a = try! HalfConversion.floats(from: p.a), b = try! HalfConversion.floats(from: p.b)
        let r = p.rank, inF = p.a.shape[1], out = p.b.shape[0]
        var d = [Double](repeating: 0, count: out * inF)
        for i in 0..<out { for j in 0..<inF {
            var s = 0.0
            for k in 0..<r { s += Double(b[i * r + k]) * Double(a[k * inF + j]) }
            d[i * inF + j] = p.scale * s
        } }
        return d
    }

    static func deltas(_ experts: [LoRAWeights], _ module: String, out: Int, inF: Int) -> [[Double]] {
        experts.map { $0.modules[module].map(delta) ?? [Double](repeating: 0, count: out * inF) }
    }

    static func weightedSum(_ d: [[Double]], _ w: [Double]) -> [Double] {
        var s = [Double](repeating: 0, count: d[0].count)
        for e in d.indices { for j in s.indices { s[j] += w[e] * d[e][j] } }
        return s
    }

    /// Best rank-r approximation by the reference SVD, and its relative error.
    static func truncated(_ d: [Double], out: Int, inF: Int, rank: Int) -> ([Double], Double) {
        let svd = Reference.svd(d.map { Float($0) }, rows: out, cols: inF)
        let k = svd.s.count, r = min(rank, k)
        var m = [Double](repeating: 0, count: out * inF)
        for i in 0..<out { for j in 0..<inF { for t in 0..<r { m[i * inF + j] += svd.u[i * k + t] * svd.s[t] * svd.vt[t * inF + j] } } }
        let total = svd.s.reduce(0) { $0 + $1 * $1 }, dropped = svd.s[r...].reduce(0) { $0 + $1 * $1 }
        return (m, total > 0 ? (dropped / total).squareRoot() : 0)
    }

    static func trim(_ d: [Double], _ density: Double) -> [Double] {
        let k = min(d.count, max(1, Int((density * Double(d.count)).rounded(.up))))
        let threshold = d.map { abs(Float($0)) }.sorted(by: >)[k - 1]
        return d.map { abs(Float($0)) >= threshold ? $0 : 0 }
    }

    static func ties(_ d: [[Double]], _ w: [Double], density: Double) -> [Double] {
        let t = d.map { trim($0, density) }
        return (0..<d[0].count).map { j in
            let total = t.indices.reduce(0.0) { $0 + w[$1] * t[$1][j] }
            if total == 0 { return 0 }
            var num = 0.0, den = 0.0
            for e in t.indices where t[e][j] != 0 && (t[e][j] > 0) == (total > 0) { num += w[e] * t[e][j]; den += w[e] }
            return den == 0 ? 0 : num / den
        }
    }

    static func dare(_ d: [[Double]], _ present: [Bool], _ w: [Double], density: Double, seed: UInt64, module: String) -> [Double] {
        var s = [Double](repeating: 0, count: d[0].count)
        for e in d.indices where present[e] {
            var rng = Composer.dareGenerator(seed: seed, module: module, expert: e)
            for j in s.indices where Composer.keep(&rng, density) { s[j] += w[e] / density * d[e][j] }
        }
        return s
    }
}

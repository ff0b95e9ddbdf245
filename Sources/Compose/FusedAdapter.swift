import Foundation
import GlossaCore
import Tensor

/// One module of a composed adapter, scale folded in: delta W = B A exactly.
public struct FusedModule: Sendable, Equatable {
    /// [rank, inF]
    public var a: [Float]
    /// [outF, rank]
    public var b: [Float]
    public var rank: Int
    public var inF: Int
    public var outF: Int

    public init(a: [Float], b: [Float], rank: Int, inF: Int, outF: Int) {
        precondition(a.count == rank * inF && b.count == outF * rank, "FusedModule: A \(a.count), B \(b.count) for rank \(rank) [\(outF), \(inF)]")
        self.a = a; self.b = b; self.rank = rank; self.inF = inF; self.outF = outF
    }

    /// B A, row-major [outF, inF].
    public func dense(blas: BLASLibrary) -> [Float] {
        var d = [Float](repeating: 0, count: outF * inF)
        b.withUnsafeBufferPointer { bp in a.withUnsafeBufferPointer { ap in d.withUnsafeMutableBufferPointer { dp in
            blas.sgemm(m: outF, n: inF, k: rank, a: bp.baseAddress!, lda: rank, b: ap.baseAddress!, ldb: inF, c: dp.baseAddress!, ldc: inF)
        } } }
        return d
    }
}

/// A composed LoRA adapter: its modules and, for modules truncated by SVD, the relative
/// Frobenius error of the truncation (||D - D_r|| / ||D||; absent for exact methods).
public struct FusedAdapter: Sendable, Equatable {
    public var modules: [String: FusedModule]
    public var truncationError: [String: Double]

    public init(modules: [String: FusedModule], truncationError: [String: Double] = [:]) {
        self.modules = modules; self.truncationError = truncationError
    }

    /// The adapter as f32 `LoRAWeights` with scale 1 on every module. The config lists the
    /// adapted modules by full path; the most common rank is `rank` (alpha equal to it, so
    /// alpha / r = 1) and modules of other ranks get rank and alpha patterns that keep their
    /// scale at 1 too, as PEFT reads them.
    public var loraWeights: LoRAWeights {
        LoRAWeights(config: config, modules: modules.mapValues { m in
            LoRAPair(a: HalfConversion.f32Data(m.a, shape: [m.rank, m.inF]), b: HalfConversion.f32Data(m.b, shape: [m.outF, m.rank]), scale: 1)
        })
    }

    public var config: LoRAConfig {
        var counts: [Int: Int] = [:]
        for m in modules.values { counts[m.rank, default: 0] += 1 }
        let common = counts.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key ?? 1
        var rankPattern: [String: Int] = [:], alphaPattern: [String: Double] = [:]
        for (path, m) in modules where m.rank != common {
            let key = path.replacingOccurrences(of: ".", with: "\\.")   // a regex key matching this path only
            rankPattern[key] = m.rank
            alphaPattern[key] = Double(m.rank)
        }
        return LoRAConfig(rank: common, alpha: Double(common), targetModules: modules.keys.sorted(),
                          rankPattern: rankPattern, alphaPattern: alphaPattern)
    }

    /// Largest and mean truncation error over the truncated modules (0 when none was).
    /// Summed in module order: a dictionary's order changes per process, and with it the
    /// last bits of a float sum, which would change the composite's digest.
    public var truncationSummary: (max: Double, mean: Double) {
        let v = truncationError.sorted { $0.key < $1.key }.map(\.value)
        return (v.max() ?? 0, v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count))
    }
}

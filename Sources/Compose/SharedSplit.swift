import Foundation
import GlossaCore
import Tensor

/// The experts split into what they share and what is left per language (beyond the paper,
/// after hierarchical LoRA mixtures of experts):
///
///   S    = rank-`sharedRank` truncation of M = sum_e w_e dW_e / sum_e w_e   (always applied)
///   R_e  = rank-r_e truncation of dW_e - S                                (routed by language)
///
/// M is the least-squares common part (argmin_S sum_e w_e ||dW_e - S||^2), so S holds what
/// every expert learned alike (the synthetic voice, the channel, the base's general
/// weaknesses) and R_e what is specific to language e. At run time S + R_e stands for
/// expert e; with the language unknown, S alone (or S + a soft mix of the R_e) applies.
public struct SharedSplit: Sendable, Equatable {
    public var shared: FusedAdapter
    /// One residual per input expert, in input order.
    public var residuals: [FusedAdapter]
}

extension Composer {
    /// Splits `inputs` into a shared adapter and per-expert residuals.
    ///
    /// - Parameters:
    ///   - weights: one per expert (nil: equal), used for the common part only.
    ///   - sharedRank: rank of S (nil: the largest input rank).
    ///   - residualRank: rank of every R_e (nil: the expert's own rank at that module).
    public func splitShared(_ inputs: [ComposeInput], weights: [Double]? = nil, sharedRank: Int? = nil, residualRank: Int? = nil,
                            progress: (Int, Int) -> Void = { _, _ in }) throws(ComposeError) -> SharedSplit {
        let deltas = try ExpertDeltas(inputs)
        let w = try FusionOptions(method: .linear, weights: weights).resolvedWeights(count: deltas.count)
        if let r = sharedRank, r < 1 { throw .badRank(r) }
        if let r = residualRank, r < 1 { throw .badRank(r) }
        let wsum = w.reduce(0, +)
        guard wsum != 0 else { throw .badWeight(index: 0, value: 0) }
        let target = sharedRank ?? deltas.maxRank
        let results = try eachModule(deltas.modules.count, progress: progress) { i throws(ComposeError) -> ((FusedModule, Double?), [(FusedModule, Double?)]) in
            let module = deltas.modules[i]
            let (outF, inF) = deltas.shape(module)
            let dense = (0..<deltas.count).map { deltas.dense(module, expert: $0, weight: 1, blas: blas) }
            var mean = [Float](repeating: 0, count: outF * inF)
            for e in dense.indices { let k = Float(w[e] / wsum); for j in mean.indices { mean[j] += k * dense[e][j] } }
            let s = try truncate(mean, module, outF: outF, inF: inF, rank: target)
            let sd = s.0.dense(blas: blas)
            var residuals: [(FusedModule, Double?)] = []
            for e in dense.indices {
                var r = dense[e]
                for j in r.indices { r[j] -= sd[j] }
                let rank = residualRank ?? deltas.factors[module]![e]?.rank ?? deltas.maxRank
                residuals.append(try truncate(r, module, outF: outF, inF: inF, rank: rank))
            }
            return (s, residuals)
        }
        var shared = FusedAdapter(modules: [:])
        var residuals = [FusedAdapter](repeating: FusedAdapter(modules: [:]), count: deltas.count)
        for (module, (s, rs)) in zip(deltas.modules, results) {
            shared.modules[module] = s.0; shared.truncationError[module] = s.1
            for (e, r) in rs.enumerated() { residuals[e].modules[module] = r.0; residuals[e].truncationError[module] = r.1 }
        }
        return SharedSplit(shared: shared, residuals: residuals)
    }
}

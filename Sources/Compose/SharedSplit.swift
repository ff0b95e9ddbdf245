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
        var shared = FusedAdapter(modules: [:])
        var residuals = [FusedAdapter](repeating: FusedAdapter(modules: [:]), count: deltas.count)
        for (i, module) in deltas.modules.enumerated() {
            let (outF, inF) = deltas.shape(module)
            let dense = (0..<deltas.count).map { deltas.dense(module, expert: $0, weight: 1, blas: blas) }
            var mean = [Float](repeating: 0, count: outF * inF)
            for e in dense.indices { let k = Float(w[e] / wsum); for j in mean.indices { mean[j] += k * dense[e][j] } }
            let (s, err) = try truncate(mean, module, outF: outF, inF: inF, rank: target)
            shared.modules[module] = s; shared.truncationError[module] = err
            let sd = s.dense(blas: blas)
            for e in dense.indices {
                var r = dense[e]
                for j in r.indices { r[j] -= sd[j] }
                let rank = residualRank ?? deltas.factors[module]![e]?.rank ?? deltas.maxRank
                let (m, rerr) = try truncate(r, module, outF: outF, inF: inF, rank: rank)
                residuals[e].modules[module] = m; residuals[e].truncationError[module] = rerr
            }
            progress(i + 1, deltas.modules.count)
        }
        return SharedSplit(shared: shared, residuals: residuals)
    }
}

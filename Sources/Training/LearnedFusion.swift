import Foundation
import GlossaCore
import Tensor
import TensorIO
import Whisper

/// How finely learned fusion weights are shared across modules.
public enum FusionGranularity: String, Codable, Sendable, CaseIterable {
    /// One weight per expert for the whole model.
    case expert
    /// One weight per expert and layer (`model.encoder.layers.3` ...).
    case layer
    /// One weight per expert and adapted module.
    case module

    func group(of module: String) -> String {
        switch self {
        case .expert: return "all"
        case .module: return module
        case .layer:
            let parts = module.split(separator: ".")
            return parts.count >= 4 ? parts[0..<4].joined(separator: ".") : module
        }
    }
}

/// Hyper-parameters of learned fusion, recorded in the composite's recipe.
public struct LearnedFusionConfig: Codable, Sendable, Equatable {
    public var granularity: FusionGranularity = .layer
    public var steps: Int = 40
    public var batchSize: Int = 4
    /// Adam learning rate of the fusion weights (they start at 1/E).
    public var learningRate: Double = 0.02
    public var clipNorm: Double? = 1
    public var seed: UInt64 = 0
    /// Train the language token too, so the fused model also detects languages.
    public var predictLanguage: Bool = true
    public var concurrentUtterances: Int = 2
    public init() {}
}

/// What learned fusion returns.
public struct LearnedFusionResult: Sendable {
    /// Group names, in `weights` order.
    public var groups: [String]
    /// weights[g][e]: the weight of expert e in group g.
    public var weights: [[Float]]
    /// The fused adapter: the experts' factors concatenated with the learned weights folded
    /// into B (scale 1 everywhere), rank = sum of the experts' ranks per module.
    public var adapter: LoRAParameters
    /// Mean token loss of each step's batch.
    public var losses: [Double]
}

/// Learned fusion of LoRA experts: per expert (and per group of modules) weights trained on
/// a calibration set with the base and the experts frozen; gradients flow into the weights
/// only.
///
/// With weights w[g][e], module m of group g adapts as delta W_m = sum_e w[g][e] s_e B_e A_e,
/// which is the product B_cat A_cat of the concatenated factors
///   A_cat = [A_1; ...; A_E]  [R, in],   B_cat = [w[g][1] s_1 B_1, ..., w[g][E] s_E B_E]  [out, R]
/// (R = sum of ranks). The training graph gives dL/dB_cat, and the chain rule through the
/// weight's only appearance gives dL/dw[g][e] = sum_{m in g} <dL/dB_cat[:, block e], s_e B_e>.
public struct LearnedFusion: Sendable {
    public let graph: WhisperTrainingGraph
    public let config: LearnedFusionConfig
    public let special: SpecialTokens
    /// Each expert's factors (scale inside), by module.
    let experts: [LoRAParameters]
    /// Union of the experts' modules, sorted; and each one's group index.
    let modules: [String]
    public let groups: [String]
    let groupOf: [String: Int]

    public init(base: WhisperModel, experts: [LoRAWeights], config: LearnedFusionConfig, special: SpecialTokens,
                compute: Compute) throws(TrainingError) {
        guard !experts.isEmpty else { throw .badConfig("learned fusion needs at least one expert") }
        guard config.steps > 0, config.batchSize > 0, config.learningRate > 0, config.concurrentUtterances > 0 else {
            throw .badConfig("steps, batch size, learning rate and concurrency must be positive")
        }
        self.graph = WhisperTrainingGraph(model: base, compute: compute, concurrentUtterances: config.concurrentUtterances)
        self.config = config; self.special = special
        self.experts = try experts.map { w throws(TrainingError) in try LoRAParameters(w) }
        let all = Set(self.experts.flatMap(\.names))
        let known = Set(WhisperLayout.adaptableModules(for: base.config))
        if let bad = all.subtracting(known).sorted().first { throw .badConfig("expert module \(bad) is not an adaptable module of the base") }
        modules = all.sorted()
        var groups: [String] = [], index: [String: Int] = [:], groupOf: [String: Int] = [:]
        for m in modules {
            let g = config.granularity.group(of: m)
            if index[g] == nil { index[g] = groups.count; groups.append(g) }
            groupOf[m] = index[g]!
        }
        self.groups = groups; self.groupOf = groupOf
    }

    /// 1/E for every expert in every group.
    public var initialWeights: [[Float]] {
        [[Float]](repeating: [Float](repeating: 1 / Float(experts.count), count: experts.count), count: groups.count)
    }

    /// The concatenated adapter for weights `w` (see the type's comment).
    public func catParameters(_ w: [[Float]]) -> LoRAParameters {
        var factors: [LoRAFactors] = []
        for m in modules {
            let g = groupOf[m]!
            let present = experts.enumerated().compactMap { e, p in p[m].map { (e, $0) } }
            let total = present.reduce(0) { $0 + $1.1.rank }
            let out = present[0].1.b.count / present[0].1.rank
            var a: [Float] = [], b = [Float](repeating: 0, count: out * total)
            var col = 0
            for (e, f) in present {
                a += f.a
                let k = w[g][e] * f.scale
                for i in 0..<out { for j in 0..<f.rank { b[i * total + col + j] = k * f.b[i * f.rank + j] } }
                col += f.rank
            }
            factors.append(LoRAFactors(a: a, b: b, rank: total, scale: 1))
        }
        return LoRAParameters(names: modules, factors: factors)
    }

    /// dL/dw from the gradient of the concatenated adapter (only its B part matters).
    func weightGradients(_ catGrads: LoRAParameters) -> [[Float]] {
        var dw = [[Float]](repeating: [Float](repeating: 0, count: experts.count), count: groups.count)
        for (slot, m) in modules.enumerated() {
            let g = groupOf[m]!, db = catGrads.factors[slot].b, total = catGrads.factors[slot].rank
            var col = 0
            for (e, p) in experts.enumerated() {
                guard let f = p[m] else { continue }
                let out = f.b.count / f.rank
                var s = 0.0
                for i in 0..<out { for j in 0..<f.rank { s += Double(db[i * total + col + j]) * Double(f.scale * f.b[i * f.rank + j]) } }
                dw[g][e] += Float(s)
                col += f.rank
            }
        }
        return dw
    }

    /// Loss sum, token count and dL/dw (scaled by `gradScale`) of one utterance.
    public func lossAndWeightGradients(_ e: TrainingExample, weights w: [[Float]], gradScale: Float) -> (lossSum: Double, count: Int, grads: [[Float]]) {
        let cat = catParameters(w)
        var g = cat.zeros()
        let seq = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: special, predictLanguage: config.predictLanguage)
        let r = graph.lossAndGradients(.features(e.features), tokens: seq.input, targets: seq.targets, lora: cat, grads: &g, gradScale: gradScale)
        return (r.lossSum, r.count, weightGradients(g))
    }

    /// Trains the weights from 1/E with Adam (the trainer's AdamW, no decay) and gradient
    /// clipping; batches drawn by a seeded shuffle. Deterministic for a seed.
    public func run(train: [TrainingExample], progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws(TrainingError) -> LearnedFusionResult {
        guard !train.isEmpty else { throw .badConfig("no calibration examples") }
        // The weights ride in a LoRAParameters (one `a` row of E values per group) so the
        // trainer's AdamW and clipping apply to them unchanged.
        var params = LoRAParameters(names: groups, factors: initialWeights.map { LoRAFactors(a: $0, b: [], rank: 1, scale: 1) })
        var adam = AdamWState(like: params)
        var rng = SeededGenerator(seed: config.seed ^ 0x5EED_DA7A)
        var order: [Int] = [], cursor = 0
        var losses: [Double] = []
        for step in 0..<config.steps {
            if cursor >= order.count {
                order = Array(train.indices)
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                cursor = 0
            }
            let batch = Array(order[cursor..<min(cursor + config.batchSize, order.count)])
            cursor += batch.count
            let tokens = batch.reduce(0) { $0 + train[$1].transcript.count + 1 + (config.predictLanguage ? 1 : 0) }
            let w = params.factors.map(\.a)
            let outs = concurrentMap(batch.count, width: config.concurrentUtterances) { j in lossAndWeightGradients(train[batch[j]], weights: w, gradScale: 1 / Float(tokens)) }
            var grads = params.zeros()
            var lossSum = 0.0
            for o in outs {
                lossSum += o.lossSum
                for g in o.grads.indices { for e in o.grads[g].indices { grads.factors[g].a[e] += o.grads[g][e] } }
            }
            let loss = lossSum / Double(tokens)
            guard loss.isFinite else { throw .diverged(step: step + 1, loss: loss) }
            if let c = config.clipNorm { clipGlobalNorm(&grads, maxNorm: c) }
            adamWStep(&params, grads: grads, state: &adam, lr: config.learningRate, AdamWConfig())
            losses.append(loss)
            progress(step + 1, config.steps, loss)
        }
        let w = params.factors.map(\.a)
        return LearnedFusionResult(groups: groups, weights: w, adapter: catParameters(w), losses: losses)
    }
}

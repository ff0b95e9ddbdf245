import Foundation
import GlossaCore
import Tensor
import TensorIO

/// Which half of Whisper receives adapters.
public enum AdapterScope: String, Codable, Sendable, CaseIterable {
    case encoder, decoder, both
    var includesEncoder: Bool { self != .decoder }
    var includesDecoder: Bool { self != .encoder }
}

/// PEFT's list-form `target_modules` rule: a module is targeted when its name equals a
/// target or ends with "." + target.
func matchesTarget(_ name: String, _ target: String) -> Bool {
    name == target || name.hasSuffix("." + target)
}

/// The trainable LoRA factors of a model, one `LoRAFactors` per adapted module, kept in
/// canonical module order so that initialisation, reductions and serialisation are
/// deterministic.
public struct LoRAParameters: Sendable, Equatable {
    public private(set) var names: [String]
    public var factors: [LoRAFactors]
    private var index: [String: Int]

    public init(names: [String], factors: [LoRAFactors]) {
        precondition(names.count == factors.count, "LoRAParameters: \(names.count) names for \(factors.count) factors")
        self.names = names; self.factors = factors
        self.index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    }

    public subscript(name: String) -> LoRAFactors? { index[name].map { factors[$0] } }
    func slot(_ name: String) -> Int? { index[name] }

    /// PEFT-style initialisation from a seed: A ~ Kaiming-uniform(a = sqrt 5), i.e.
    /// U(-1/sqrt(in), 1/sqrt(in)); B = 0, so training starts exactly at the base model.
    /// Scale = alpha / r, or alpha / sqrt(r) with rsLoRA.
    public static func initialise(model c: WhisperConfig, targets: [String], scope: AdapterScope,
                                  rank: Int, alpha: Double, useRSLoRA: Bool = false,
                                  seed: UInt64) throws(TrainingError) -> LoRAParameters {
        guard rank > 0 else { throw .badConfig("rank must be positive, got \(rank)") }
        let all = WhisperLayout.adaptableModules(for: c)
        let shapes = WhisperLayout.linearModules(for: c)
        for t in targets where !all.contains(where: { matchesTarget($0, t) }) {
            throw .unknownTarget(t, known: ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2", "self_attn.q_proj", "encoder_attn.q_proj", "..."])
        }
        let chosen = all.filter { name in
            targets.contains { matchesTarget(name, $0) }
                && (name.hasPrefix("model.encoder.") ? scope.includesEncoder : scope.includesDecoder)
        }
        guard !chosen.isEmpty else { throw .badConfig("targets \(targets) with scope \(scope.rawValue) select no module") }
        let scale = Float(useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank))
        var rng = SeededGenerator(seed: seed)
        var factors: [LoRAFactors] = []
        for name in chosen {
            let (i, o) = shapes[name]!
            let bound = 1 / Float(i).squareRoot()
            let a = (0..<(rank * i)).map { _ in rng.uniform(-bound, bound) }
            factors.append(LoRAFactors(a: a, b: [Float](repeating: 0, count: o * rank), rank: rank, scale: scale))
        }
        return LoRAParameters(names: chosen, factors: factors)
    }

    /// Zero tensors of the same shapes (gradient accumulators, Adam moments).
    public func zeros() -> LoRAParameters {
        LoRAParameters(names: names, factors: factors.map { $0.zeros() })
    }

    /// True when any adapted module is in the encoder (encoder outputs then change with training).
    public var hasEncoderAdapters: Bool { names.contains { $0.hasPrefix("model.encoder.") } }

    /// Total trainable values.
    public var parameterCount: Int { factors.reduce(0) { $0 + $1.a.count + $1.b.count } }

    /// Element-wise a += b over all factors (shapes must match).
    mutating func add(_ other: LoRAParameters) {
        for m in factors.indices {
            for j in factors[m].a.indices { factors[m].a[j] += other.factors[m].a[j] }
            for j in factors[m].b.indices { factors[m].b[j] += other.factors[m].b[j] }
        }
    }

    /// Sum of squares of every value (Double accumulation).
    func squaredNorm() -> Double {
        var s = 0.0
        for f in factors { for v in f.a { s += Double(v) * Double(v) }; for v in f.b { s += Double(v) * Double(v) } }
        return s
    }

    /// Multiplies every value by `k`.
    mutating func scale(by k: Float) {
        for m in factors.indices {
            for j in factors[m].a.indices { factors[m].a[j] *= k }
            for j in factors[m].b.indices { factors[m].b[j] *= k }
        }
    }

    /// The adapter as GlossaCore's `LoRAWeights` (f32 tensors A [r, in], B [out, r]).
    public func loraWeights(config: LoRAConfig) -> LoRAWeights {
        var modules: [String: LoRAPair] = [:]
        for (n, f) in zip(names, factors) {
            let i = f.a.count / f.rank, o = f.b.count / f.rank
            modules[n] = LoRAPair(a: HalfConversion.f32Data(f.a, shape: [f.rank, i]), b: HalfConversion.f32Data(f.b, shape: [o, f.rank]), scale: Double(f.scale))
        }
        return LoRAWeights(config: config, modules: modules)
    }

    /// Trainable parameters from stored weights (resuming from, or fine-tuning, an adapter).
    public init(_ w: LoRAWeights) throws(TrainingError) {
        let names = w.modules.keys.sorted()
        var factors: [LoRAFactors] = []
        for n in names {
            let p = w.modules[n]!
            factors.append(LoRAFactors(a: try Self.floats(p.a, name: "\(n).lora_A.weight"), b: try Self.floats(p.b, name: "\(n).lora_B.weight"),
                                       rank: p.rank, scale: Float(p.scale)))
        }
        self.init(names: names, factors: factors)
    }

    /// A stored factor as f32 (Tensor's conversion), its dtype error named by tensor.
    private static func floats(_ t: TensorData, name: String) throws(TrainingError) -> [Float] {
        do { return try HalfConversion.floats(from: t) } catch { throw .unsupportedDType(name: name, dtype: t.dtype) }
    }
}

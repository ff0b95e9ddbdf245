/// LoRA hyper-parameters, mirroring PEFT's `LoraConfig` fields that change the math.
///
/// Module names are canonical Whisper module paths (see `WhisperCheckpoint`) such as
/// `model.decoder.layers.3.encoder_attn.q_proj`.
public struct LoRAConfig: Codable, Sendable, Equatable {
    /// Default rank r.
    public var rank: Int
    /// Default alpha.
    public var alpha: Double
    /// PEFT `target_modules`: module-name suffixes such as `q_proj`, `fc1`.
    public var targetModules: [String]
    /// PEFT `rank_pattern`: regex/suffix key -> rank overriding `rank`.
    public var rankPattern: [String: Int]
    /// PEFT `alpha_pattern`: key -> alpha overriding `alpha`.
    public var alphaPattern: [String: Double]
    /// rsLoRA: scale = alpha / sqrt(r) instead of alpha / r.
    public var useRSLoRA: Bool

    public init(rank: Int, alpha: Double, targetModules: [String], rankPattern: [String: Int] = [:],
                alphaPattern: [String: Double] = [:], useRSLoRA: Bool = false) {
        self.rank = rank; self.alpha = alpha; self.targetModules = targetModules
        self.rankPattern = rankPattern; self.alphaPattern = alphaPattern; self.useRSLoRA = useRSLoRA
    }

    enum CodingKeys: String, CodingKey {
        case rank, alpha, targetModules = "target_modules", rankPattern = "rank_pattern"
        case alphaPattern = "alpha_pattern", useRSLoRA = "use_rslora"
    }
}

/// One adapted linear layer: delta W = scale * B * A.
public struct LoRAPair: Sendable, Equatable {
    /// `lora_A.weight`, shape [r, in].
    public var a: TensorData
    /// `lora_B.weight`, shape [out, r].
    public var b: TensorData
    /// alpha / r (or alpha / sqrt(r) with rsLoRA), already resolved for this module.
    public var scale: Double

    public init(a: TensorData, b: TensorData, scale: Double) { self.a = a; self.b = b; self.scale = scale }
    public var rank: Int { a.shape[0] }
}

/// A LoRA adapter's weights keyed by canonical module path
/// (e.g. `model.encoder.layers.0.self_attn.q_proj`).
public struct LoRAWeights: Sendable, Equatable {
    public var config: LoRAConfig
    public var modules: [String: LoRAPair]
    public init(config: LoRAConfig, modules: [String: LoRAPair]) { self.config = config; self.modules = modules }
}

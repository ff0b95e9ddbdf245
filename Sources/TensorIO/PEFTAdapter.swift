import Foundation
import GlossaCore

/// A PEFT LoRA adapter folder for Whisper:
///
///     adapter_config.json        {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": [...],
///                                 "rank_pattern": {...}, "alpha_pattern": {...}, "use_rslora": false, ...}
///     adapter_model.safetensors  base_model.model.<module>.lora_A.weight  [r, in]
///                                base_model.model.<module>.lora_B.weight  [out, r]
///
/// where `<module>` is a Hugging Face `WhisperForConditionalGeneration` module path such
/// as `model.decoder.layers.3.encoder_attn.q_proj` (Glossa's canonical module name).
///
/// Loading keeps the tensors' bytes and dtype untouched and the config's other fields in
/// `rawConfig`, so `write(to:)` reproduces the adapter bit for bit (tensors) and field for
/// field (config). Features that change the math in ways Glossa does not implement
/// (DoRA, trained biases, embedding LoRA, modules_to_save, fan_in_fan_out) are refused.
public struct PEFTAdapter: Sendable, Equatable {
    /// Factors by canonical module path, each with its resolved scale.
    public var weights: LoRAWeights
    /// Every field of `adapter_config.json` as read (empty for adapters made in Glossa).
    /// `write(to:)` writes these back, with the fields `weights.config` models replaced.
    public var rawConfig: [String: JSONValue]
    /// `rank_pattern` / `alpha_pattern` keys in file order (PEFT's first-match order).
    public var patternOrder: [String]
    /// The safetensors `__metadata__` of the weights file (PEFT writes `{"format": "pt"}`).
    public var tensorMetadata: [String: String]?

    public init(weights: LoRAWeights, rawConfig: [String: JSONValue] = [:], patternOrder: [String] = [],
                tensorMetadata: [String: String]? = ["format": "pt"]) {
        self.weights = weights; self.rawConfig = rawConfig; self.patternOrder = patternOrder; self.tensorMetadata = tensorMetadata
    }

    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    /// Prefix PEFT puts before module paths of a model wrapped by `get_peft_model`.
    public static let keyPrefix = "base_model.model."

    /// `base_model_name_or_path` from the config, if any.
    public var baseModelNameOrPath: String? { rawConfig["base_model_name_or_path"]?.string }

    /// Fields of `rawConfig` that `LoRAConfig` does not model, for callers that store them
    /// (e.g. in a registry manifest) and pass them back to `init` later.
    public var extraConfigFields: [String: JSONValue] {
        rawConfig.filter { !Self.modelledKeys.contains($0.key) }
    }

    static let modelledKeys: Set<String> = ["r", "lora_alpha", "target_modules", "rank_pattern", "alpha_pattern", "use_rslora"]

    // MARK: Reading

    /// Reads a PEFT adapter folder.
    public static func load(folder: URL) throws(TensorIOError) -> PEFTAdapter {
        let configPath = folder.appendingPathComponent(configFile).path
        let (raw, order) = try parseStoredConfig(try readFile(configPath), source: configPath)
        let config = try parseConfig(raw, path: configPath)

        let weightsPath = folder.appendingPathComponent(weightsFile).path
        let file = try SafeTensors.read(URL(fileURLWithPath: weightsPath))
        var a = [String: TensorData](), b = [String: TensorData]()
        for (key, t) in file.tensors {
            func unsupported(_ what: String) -> TensorIOError { .adapter(path: weightsPath, key: key, message: "\(what) is not supported") }
            if key.contains("lora_embedding_") { throw unsupported("LoRA on embeddings (lora_embedding_A/B)") }
            if key.contains("lora_magnitude_vector") { throw unsupported("DoRA (lora_magnitude_vector)") }
            guard key.hasPrefix(keyPrefix) else {
                throw .adapter(path: weightsPath, key: key, message: "expected keys starting with '\(keyPrefix)'")
            }
            var rest = String(key.dropFirst(keyPrefix.count))
            // Adapters trained on WhisperModel (not ...ForConditionalGeneration) lack "model.".
            if !rest.hasPrefix("model.") { rest = "model." + rest }
            if rest.hasSuffix(".lora_A.weight") {
                a[String(rest.dropLast(".lora_A.weight".count))] = t
            } else if rest.hasSuffix(".lora_B.weight") {
                b[String(rest.dropLast(".lora_B.weight".count))] = t
            } else if rest.hasSuffix(".bias") {
                throw unsupported("a trained bias (bias != \"none\" or lora_bias)")
            } else {
                throw .adapter(path: weightsPath, key: key, message: "not a LoRA factor (expected .lora_A.weight or .lora_B.weight)")
            }
        }
        var modules = [String: LoRAPair]()
        for module in Set(a.keys).union(b.keys).sorted() {
            let key = keyPrefix + module
            guard let ta = a[module] else { throw .adapter(path: weightsPath, key: key + ".lora_A.weight", message: "missing (lora_B is present)") }
            guard let tb = b[module] else { throw .adapter(path: weightsPath, key: key + ".lora_B.weight", message: "missing (lora_A is present)") }
            guard ta.shape.count == 2, tb.shape.count == 2 else {
                throw .adapter(path: weightsPath, key: key, message: "lora_A \(ta.shape) and lora_B \(tb.shape) must be matrices")
            }
            guard ta.dtype.isFloat, tb.dtype.isFloat else {
                throw .adapter(path: weightsPath, key: key, message: "factors must be float tensors, got \(ta.dtype.rawValue)/\(tb.dtype.rawValue)")
            }
            // A NaN or inf factor would poison every output of the layer (and used to
            // crash decoding): refused here, naming the tensor and the first bad element.
            for (factor, t) in [("lora_A", ta), ("lora_B", tb)] {
                if let bad = t.firstNonFinite {
                    throw .adapter(path: weightsPath, key: key + ".\(factor).weight",
                                   message: "element \(bad.index) is \(bad.value); an adapter must hold finite weights. "
                                     + "Re-export it from a training run that did not diverge")
                }
            }
            guard ta.shape[0] == tb.shape[1] else {
                throw .adapter(path: weightsPath, key: key, message: "rank mismatch: lora_A is \(ta.shape) ([r, in]) but lora_B is \(tb.shape) ([out, r])")
            }
            let r = config.resolved(forModule: module, patternOrder: order)
            guard r.rank == ta.shape[0] else {
                throw .adapter(path: weightsPath, key: key, message: "factors have rank \(ta.shape[0]) but the config gives r = \(r.rank) for this module")
            }
            modules[module] = LoRAPair(a: ta, b: tb, scale: r.scale)
        }
        if modules.isEmpty { throw .adapter(path: weightsPath, key: nil, message: "no LoRA factors in the file") }
        return PEFTAdapter(weights: LoRAWeights(config: config, modules: modules), rawConfig: raw,
                           patternOrder: order, tensorMetadata: file.metadata)
    }

    /// The LoRA hyper-parameters of a PEFT config; refuses features Glossa cannot apply.
    static func parseConfig(_ j: [String: JSONValue], path: String) throws(TensorIOError) -> LoRAConfig {
        func fail(_ key: String, _ message: String) -> TensorIOError { .adapter(path: path, key: key, message: message) }
        if let t = j["peft_type"]?.string, t != "LORA" { throw fail("peft_type", "'\(t)' adapters are not supported (only LORA)") }
        for flag in ["use_dora", "fan_in_fan_out", "lora_bias"] where j[flag]?.bool == true {
            throw fail(flag, "\(flag) = true is not supported")
        }
        if let bias = j["bias"]?.string, bias != "none" { throw fail("bias", "bias = '\(bias)' is not supported (only 'none')") }
        for list in ["modules_to_save", "layer_replication", "trainable_token_indices", "target_parameters"] {
            if let v = j[list], v != .null, v != .array([]), v != .object([:]) {
                throw fail(list, "\(list) is not supported")
            }
        }
        guard let r = j["r"]?.integer, r > 0 else { throw fail("r", "missing or not a positive integer") }
        guard let alpha = j["lora_alpha"]?.number else { throw fail("lora_alpha", "missing or not a number") }
        var targets = [String]()
        switch j["target_modules"] {
        case .string(let regex)?: targets = [regex]
        case .array(let a)?:
            for x in a {
                guard let s = x.string else { throw fail("target_modules", "expected strings") }
                targets.append(s)
            }
        case .null?, nil: break
        default: throw fail("target_modules", "expected a list of module names or a regex string")
        }
        var rankPattern = [String: Int]()
        for (k, v) in j["rank_pattern"]?.object ?? [:] {
            guard let i = v.integer, i > 0 else { throw fail("rank_pattern", "rank for '\(k)' is not a positive integer") }
            rankPattern[k] = i
        }
        var alphaPattern = [String: Double]()
        for (k, v) in j["alpha_pattern"]?.object ?? [:] {
            guard let d = v.number else { throw fail("alpha_pattern", "alpha for '\(k)' is not a number") }
            alphaPattern[k] = d
        }
        for key in Array(rankPattern.keys) + Array(alphaPattern.keys) where (try? NSRegularExpression(pattern: key)) == nil {
            throw fail("rank_pattern", "'\(key)' is not a valid regular expression")
        }
        return LoRAConfig(rank: r, alpha: alpha, targetModules: targets, rankPattern: rankPattern,
                          alphaPattern: alphaPattern, useRSLoRA: j["use_rslora"]?.bool ?? false)
    }

    // MARK: Writing

    /// The `adapter_config.json` object `write(to:)` produces: `rawConfig` (or PEFT's
    /// defaults) with the fields `weights.config` models taken from it.
    public var configObject: [String: JSONValue] {
        let c = weights.config
        var o = rawConfig.isEmpty ? Self.defaultConfig : rawConfig
        o["peft_type"] = .string("LORA")
        o["r"] = .int(Int64(c.rank))
        o["lora_alpha"] = Self.number(c.alpha, like: rawConfig["lora_alpha"])
        if case .string(let regex)? = rawConfig["target_modules"], c.targetModules == [regex] {
            o["target_modules"] = .string(regex)
        } else {
            o["target_modules"] = .array(c.targetModules.map { .string($0) })
        }
        o["rank_pattern"] = .object(c.rankPattern.mapValues { .int(Int64($0)) })
        let oldAlphas = rawConfig["alpha_pattern"]?.object ?? [:]
        o["alpha_pattern"] = .object(c.alphaPattern.reduce(into: [:]) { $0[$1.key] = Self.number($1.value, like: oldAlphas[$1.key]) })
        o["use_rslora"] = .bool(c.useRSLoRA)
        return o
    }

    /// Writes the adapter folder (created if needed), each file crash-safely.
    public func write(to folder: URL) throws(TensorIOError) {
        var tensors = [String: TensorData]()
        for (module, pair) in weights.modules {
            guard pair.a.shape.count == 2, pair.b.shape.count == 2, pair.a.shape[0] == pair.b.shape[1] else {
                throw .adapterMismatch(module: module, message: "lora_A \(pair.a.shape) and lora_B \(pair.b.shape) do not form a rank-r pair")
            }
            tensors[Self.keyPrefix + module + ".lora_A.weight"] = pair.a
            tensors[Self.keyPrefix + module + ".lora_B.weight"] = pair.b
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(path: folder.path, operation: "create directory", message: (error as NSError).localizedDescription)
        }
        let configURL = folder.appendingPathComponent(Self.configFile)
        let json: Data
        do { json = try JSONValue.object(configObject).encoded() } catch {
            throw .fileSystem(path: configURL.path, operation: "encode JSON", message: "\(error)")
        }
        try SafeTensors.write(tensors, metadata: tensorMetadata, to: folder.appendingPathComponent(Self.weightsFile))
        try writeAtomically(json + Data("\n".utf8), to: configURL.path)
    }

    /// Keeps an integer spelling when the value is integral and was (or would be) an integer.
    static func number(_ x: Double, like old: JSONValue?) -> JSONValue {
        if case .double? = old { return .double(x) }
        if x.rounded() == x, abs(x) < 1e15 { return .int(Int64(x)) }
        return .double(x)
    }

    /// What PEFT 0.x writes for a plain LoRA, for adapters that did not come from PEFT.
    static let defaultConfig: [String: JSONValue] = [
        "peft_type": .string("LORA"), "task_type": .null, "base_model_name_or_path": .null, "revision": .null,
        "bias": .string("none"), "fan_in_fan_out": .bool(false), "inference_mode": .bool(true),
        "init_lora_weights": .bool(true), "lora_dropout": .double(0), "modules_to_save": .null,
        "use_dora": .bool(false), "layers_to_transform": .null, "layers_pattern": .null,
    ]
}

import Foundation
import GlossaCore

/// Reads and writes Hugging Face Whisper folders:
///
///     config.json                     WhisperConfig fields (+ generation_config.json for suppress tokens)
///     model.safetensors               or model.safetensors.index.json + shards
///     tokenizer.json
///
/// Reading accepts `WhisperForConditionalGeneration` names (`model.encoder...`) and
/// `WhisperModel` names (`encoder...`); `proj_out.weight`, when present, must equal the
/// token embeddings (Whisper ties them) and is dropped. Writing produces a folder that
/// `transformers.WhisperForConditionalGeneration.from_pretrained` loads with no missing keys.
public enum HuggingFaceWhisper {
    /// Loads `folder` into canonical form (tensors memory-mapped, in their stored dtype).
    public static func load(folder: URL) throws(TensorIOError) -> WhisperCheckpoint {
        let configPath = folder.appendingPathComponent("config.json").path
        let json = try readJSONObject(configPath)
        let generationPath = folder.appendingPathComponent("generation_config.json").path
        let generation = FileManager.default.fileExists(atPath: generationPath) ? try readJSONObject(generationPath) : [:]
        let config = try parseConfig(json, generation: generation, path: configPath)

        let weightsPath = folder.appendingPathComponent("model.safetensors").path
        let indexPath = folder.appendingPathComponent("model.safetensors.index.json").path
        var raw = [String: TensorData]()
        var source = weightsPath
        if FileManager.default.fileExists(atPath: weightsPath) {
            raw = try SafeTensors.read(URL(fileURLWithPath: weightsPath)).tensors
        } else if FileManager.default.fileExists(atPath: indexPath) {
            source = indexPath
            guard let map = try readJSONObject(indexPath)["weight_map"]?.object else {
                throw .checkpoint(path: indexPath, key: "weight_map", message: "missing object 'weight_map'")
            }
            var shards = Set<String>()
            for (key, v) in map {
                guard let f = v.string, !f.contains("/"), !f.hasPrefix(".") else {
                    throw .checkpoint(path: indexPath, key: key, message: "shard must be a plain file name in the folder")
                }
                shards.insert(f)
            }
            for shard in shards.sorted() {
                for (name, t) in try SafeTensors.read(folder.appendingPathComponent(shard)).tensors {
                    guard raw[name] == nil else { throw .checkpoint(path: shard, key: name, message: "tensor appears in two shards") }
                    raw[name] = t
                }
            }
        } else {
            throw .fileSystem(path: weightsPath, operation: "open", message: "no model.safetensors (nor model.safetensors.index.json) in the folder")
        }

        var tensors = [String: TensorData]()
        for (name, t) in raw {
            let canonical = name.hasPrefix("model.") || name == "proj_out.weight" ? name : "model." + name
            guard tensors[canonical] == nil else {
                throw .checkpoint(path: source, key: name, message: "tensor given both with and without the 'model.' prefix")
            }
            tensors[canonical] = t
        }
        if let proj = tensors.removeValue(forKey: "proj_out.weight"), proj != tensors["model.decoder.embed_tokens.weight"] {
            // Compare values, not bytes, so an f32 copy of f16 embeddings still counts as tied.
            guard let e = tensors["model.decoder.embed_tokens.weight"], e.shape == proj.shape, e.floats() == proj.floats() else {
                throw .checkpoint(path: source, key: "proj_out.weight", message: "differs from model.decoder.embed_tokens.weight; untied Whisper is not supported")
            }
        }
        try WhisperLayout.validate(tensors, config: config, path: source)
        let tokenizer = try readFile(folder.appendingPathComponent("tokenizer.json").path)
        return WhisperCheckpoint(config: config, tensors: tensors, tokenizerJSON: tokenizer)
    }

    /// Writes `checkpoint` as a Hugging Face folder (created if needed); each file is
    /// written crash-safely. Existing files of the same names are replaced.
    public static func write(_ checkpoint: WhisperCheckpoint, to folder: URL) throws(TensorIOError) {
        try WhisperLayout.validate(checkpoint.tensors, config: checkpoint.config, path: folder.path)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(path: folder.path, operation: "create directory", message: (error as NSError).localizedDescription)
        }
        let c = checkpoint.config
        let special = specialTokenIDs(checkpoint.tokenizerJSON)
        let dtypes = Set(checkpoint.tensors.values.map(\.dtype))
        let torchDType = dtypes == [.f16] ? "float16" : dtypes == [.bf16] ? "bfloat16" : "float32"
        var config: [String: Any] = [
            "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper",
            "activation_function": "gelu", "scale_embedding": false, "tie_word_embeddings": true,
            "is_encoder_decoder": true, "use_cache": true, "torch_dtype": torchDType,
            "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0,
            "num_mel_bins": c.numMelBins, "d_model": c.dModel,
            "encoder_layers": c.encoderLayers, "encoder_attention_heads": c.encoderAttentionHeads, "encoder_ffn_dim": c.encoderFFNDim,
            "decoder_layers": c.decoderLayers, "decoder_attention_heads": c.decoderAttentionHeads, "decoder_ffn_dim": c.decoderFFNDim,
            "num_hidden_layers": c.encoderLayers, "vocab_size": c.vocabSize,
            "max_source_positions": c.maxSourcePositions, "max_target_positions": c.maxTargetPositions,
            "suppress_tokens": c.suppressTokens, "begin_suppress_tokens": c.beginSuppressTokens,
        ]
        var generation: [String: Any] = [
            "suppress_tokens": c.suppressTokens, "begin_suppress_tokens": c.beginSuppressTokens,
            "max_length": c.maxTargetPositions,
        ]
        for (key, id) in special {
            if !["no_timestamps_token_id", "prev_sot_token_id"].contains(key) { config[key] = id }
            generation[key] = id
        }
        // What transformers' Whisper `generate(language=, task=)` looks up: without these it
        // refuses a `language` argument as an "outdated generation config".
        // A tokenizer without a BPE vocabulary (test checkpoints) has no language tokens to list.
        let languages = (try? WhisperVocabulary.languageTokens(tokenizerJSON: checkpoint.tokenizerJSON,
                                                               path: folder.appendingPathComponent("tokenizer.json").path)) ?? []
        generation["is_multilingual"] = !languages.isEmpty
        if !languages.isEmpty { generation["lang_to_id"] = Dictionary(uniqueKeysWithValues: languages.map { ($0.token, $0.id) }) }
        let tasks = taskTokenIDs(checkpoint.tokenizerJSON)
        if !tasks.isEmpty { generation["task_to_id"] = tasks }
        // At most 1 s (50 timestamp steps of 20 ms) before the first timestamp, as OpenAI's decoder.
        generation["max_initial_timestamp_index"] = 50
        try writeJSON(config, to: folder.appendingPathComponent("config.json"))
        try writeJSON(generation, to: folder.appendingPathComponent("generation_config.json"))
        try SafeTensors.write(checkpoint.tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent("model.safetensors"))
        try writeAtomically(Data(checkpoint.tokenizerJSON), to: folder.appendingPathComponent("tokenizer.json").path)
    }

    /// Parses the WhisperConfig fields of a Hugging Face `config.json`; suppress lists come
    /// from `generation_config.json` when it has them (newer transformers move them there).
    static func parseConfig(_ j: [String: JSONValue], generation: [String: JSONValue], path: String) throws(TensorIOError) -> WhisperConfig {
        func int(_ key: String) throws(TensorIOError) -> Int {
            guard let v = j[key]?.integer, v >= 0 else { throw .checkpoint(path: path, key: key, message: "missing or not a non-negative integer") }
            return v
        }
        func ids(_ key: String) throws(TensorIOError) -> [Int] {
            guard let v = generation[key] ?? j[key], v != .null else { return [] }
            guard let a = v.array else { throw .checkpoint(path: path, key: key, message: "expected an array of token ids") }
            var out = [Int]()
            for x in a {
                guard let i = x.integer else { throw .checkpoint(path: path, key: key, message: "expected integer token ids") }
                out.append(i)
            }
            return out
        }
        if let t = j["model_type"]?.string, t != "whisper" {
            throw .checkpoint(path: path, key: "model_type", message: "'\(t)' is not a Whisper model")
        }
        if let a = j["activation_function"]?.string, a != "gelu" {
            throw .checkpoint(path: path, key: "activation_function", message: "'\(a)' is not supported (Whisper uses gelu)")
        }
        if j["scale_embedding"]?.bool == true {
            throw .checkpoint(path: path, key: "scale_embedding", message: "scaled embeddings are not supported (Whisper uses false)")
        }
        let c = WhisperConfig(
            numMelBins: try int("num_mel_bins"), dModel: try int("d_model"),
            encoderLayers: try int("encoder_layers"), encoderAttentionHeads: try int("encoder_attention_heads"),
            encoderFFNDim: try int("encoder_ffn_dim"),
            decoderLayers: try int("decoder_layers"), decoderAttentionHeads: try int("decoder_attention_heads"),
            decoderFFNDim: try int("decoder_ffn_dim"), vocabSize: try int("vocab_size"),
            maxSourcePositions: try int("max_source_positions"), maxTargetPositions: try int("max_target_positions"),
            suppressTokens: try ids("suppress_tokens"), beginSuppressTokens: try ids("begin_suppress_tokens"))
        for (key, h) in [("encoder_attention_heads", c.encoderAttentionHeads), ("decoder_attention_heads", c.decoderAttentionHeads)]
        where h == 0 || c.dModel % h != 0 {
            throw .checkpoint(path: path, key: key, message: "\(h) heads do not divide d_model \(c.dModel)")
        }
        return c
    }

    /// bos/eos/pad/decoder_start ids from the tokenizer's added tokens, when it has them.
    static func specialTokenIDs(_ tokenizerJSON: [UInt8]) -> [String: Int] {
        guard let root = try? JSONValue.parse(Data(tokenizerJSON)).object, let added = root["added_tokens"]?.array else { return [:] }
        var byContent = [String: Int]()
        for t in added {
            if let o = t.object, let content = o["content"]?.string, let id = o["id"]?.integer { byContent[content] = id }
        }
        var out = [String: Int]()
        if let eot = byContent["<|endoftext|>"] {
            out["bos_token_id"] = eot; out["eos_token_id"] = eot; out["pad_token_id"] = eot
        }
        if let sot = byContent["<|startoftranscript|>"] { out["decoder_start_token_id"] = sot }
        if let id = byContent["<|notimestamps|>"] { out["no_timestamps_token_id"] = id }
        if let id = byContent["<|startofprev|>"] { out["prev_sot_token_id"] = id }
        return out
    }

    /// `transcribe` / `translate` -> the id of `<|transcribe|>` / `<|translate|>` (those present).
    static func taskTokenIDs(_ tokenizerJSON: [UInt8]) -> [String: Int] {
        guard let root = try? JSONValue.parse(Data(tokenizerJSON)).object, let added = root["added_tokens"]?.array else { return [:] }
        var out = [String: Int]()
        for t in added {
            guard let o = t.object, let content = o["content"]?.string, let id = o["id"]?.integer else { continue }
            for task in ["transcribe", "translate"] where content == "<|\(task)|>" { out[task] = id }
        }
        return out
    }
}

/// Writes `object` as pretty, key-sorted JSON, crash-safely.
func writeJSON(_ object: Any, to url: URL) throws(TensorIOError) {
    let data: Data
    do {
        data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    } catch {
        throw .fileSystem(path: url.path, operation: "encode JSON", message: "\(error)")
    }
    try writeAtomically(data + Data("\n".utf8), to: url.path)
}

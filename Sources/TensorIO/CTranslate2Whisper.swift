import Foundation
import GlossaCore

/// Imports a CTranslate2 Whisper folder (`model.bin`, `config.json`, `tokenizer.json`)
/// into the canonical Hugging Face form, by the name table in `CTranslate2WhisperNames`.
///
/// f32/f16/bf16 variables keep their dtype (zero-copy views of the mapped file); int8 and
/// int16 variables are dequantised to f32 with their `<name>_scale` (per row for int8:
/// w = q / scale). The fused k blocks' biases must be zero (they are dropped). Scalar
/// variables other than the ones `CTranslate2WhisperNames.fixedScalars` fixes are ignored.
public enum CTranslate2Whisper {
    /// Loads `folder` (containing `model.bin`, `config.json` and `tokenizer.json`).
    public static func load(folder: URL) throws(TensorIOError) -> WhisperCheckpoint {
        let modelPath = folder.appendingPathComponent("model.bin").path
        let model = try CTranslate2Model(path: modelPath)
        guard model.specName == CTranslate2WhisperNames.specName else {
            throw .cTranslate2(path: modelPath, variable: nil, message: "spec '\(model.specName)' is not a Whisper model (expected WhisperSpec)")
        }
        let configPath = folder.appendingPathComponent("config.json").path
        let configJSON = try readJSONObject(configPath)
        let tokenizerPath = folder.appendingPathComponent("tokenizer.json").path
        let tokenizer = try readFile(tokenizerPath)

        var mapper = Mapper(model: model, path: modelPath)
        try mapper.checkScalars()
        let config = try mapper.deriveConfig(configJSON: configJSON, configPath: configPath)
        try mapper.mapAll(config: config)
        try mapper.checkAllConsumed()
        try WhisperLayout.validate(mapper.out, config: config, path: modelPath)
        return WhisperCheckpoint(config: config, tensors: mapper.out, tokenizerJSON: tokenizer)
    }

    private struct Mapper {
        let model: CTranslate2Model
        let path: String
        var out = [String: TensorData]()
        var consumed = Set<String>()

        init(model: CTranslate2Model, path: String) { self.model = model; self.path = path }

        func fail(_ variable: String?, _ message: String) -> TensorIOError {
            .cTranslate2(path: path, variable: variable, message: message)
        }

        /// Scalars that change the math: refuse models the runtime would compute wrongly.
        func checkScalars() throws(TensorIOError) {
            for s in CTranslate2WhisperNames.fixedScalars where s.fixesMath {
                if let v = model.scalarInt(s.name), v != s.value {
                    throw fail(s.name, "value \(v) is not supported for Whisper (expected \(s.value))")
                }
            }
        }

        /// The variable `name` (alias-resolved) as a tensor; int8/int16 dequantised to f32.
        mutating func take(_ name: String) throws(TensorIOError) -> TensorData {
            guard let v = model.variable(name) else { throw fail(name, "variable missing") }
            consumed.insert(name)
            consumed.insert(v.name)
            switch v.dtype {
            case .f32, .f16, .bf16:
                return model.tensor(v)
            case .i8, .i16:
                let scaleName = v.name + "_scale"
                guard let s = model.variable(scaleName), s.dtype.isFloat else {
                    throw fail(name, "quantised \(v.dtype.rawValue) variable has no float '\(scaleName)'")
                }
                consumed.insert(scaleName)
                let rows = v.shape.first ?? 1
                let scale = model.tensor(s).floats()
                guard scale.count == rows || scale.count == 1 else {
                    throw fail(scaleName, "\(scale.count) scales for \(rows) rows")
                }
                let q = model.tensor(v).floats()
                let perRow = rows == 0 ? 0 : q.count / rows
                var w = [Float](repeating: 0, count: q.count)
                for i in 0 ..< q.count {
                    // CTranslate2 stores q = round(w * scale); scale = 127 / max|row|.
                    w[i] = q[i] / scale[scale.count == 1 ? 0 : i / perRow]
                }
                return .float32(shape: v.shape, w)
            default:
                throw fail(name, "dtype \(v.dtype.rawValue) is not a weight type (f32, f16, bf16, int8, int16)")
            }
        }

        /// Splits `t` into `parts` equal row blocks.
        func split(_ t: TensorData, _ parts: Int, _ name: String) throws(TensorIOError) -> [TensorData] {
            guard let rows = t.shape.first, rows % parts == 0 else {
                throw fail(name, "shape \(t.shape) cannot be split into \(parts) equal row blocks")
            }
            let n = rows / parts
            return (0 ..< parts).map { t.rows($0 * n ..< ($0 + 1) * n) }
        }

        /// A fused projection whose row blocks are `names` (the `k_proj` block's bias must be
        /// zero and is dropped).
        mutating func fused(_ ct2: String, _ prefix: String, _ names: [String]) throws(TensorIOError) {
            let w = try split(try take(ct2 + "/weight"), names.count, ct2 + "/weight")
            let b = try split(try take(ct2 + "/bias"), names.count, ct2 + "/bias")
            for (i, proj) in names.enumerated() {
                out["\(prefix).\(proj).weight"] = w[i]
                if proj == "k_proj" {
                    guard b[i].floats().allSatisfy({ $0 == 0 }) else {
                        throw fail(ct2 + "/bias", "the key block of the fused bias is not zero; Hugging Face Whisper has no k_proj bias")
                    }
                } else {
                    out["\(prefix).\(proj).bias"] = b[i]
                }
            }
        }

        mutating func mapAll(config c: WhisperConfig) throws(TensorIOError) {
            for entry in CTranslate2WhisperNames.entries(encoderLayers: c.encoderLayers, decoderLayers: c.decoderLayers) {
                switch entry {
                case .tensor(let ct2, let hf): out[hf] = try take(ct2)
                case .fused(let ct2, let prefix, let projections): try fused(ct2, prefix, projections)
                }
            }
            let projection = CTranslate2WhisperNames.projection
            if let proj = model.variable(projection) {
                // Tied in Whisper: an alias, or (older converters) an identical copy.
                consumed.insert(projection)
                if model.aliases[projection] == nil, model.tensor(proj) != out["model.decoder.embed_tokens.weight"] {
                    throw fail(projection, "output projection differs from the token embeddings; untied Whisper is not supported")
                }
            }
            if model.variable("decoder/projection/bias") != nil {
                throw fail("decoder/projection/bias", "Whisper's output projection has no bias")
            }
        }

        /// Every non-scalar variable must have been mapped: an unknown tensor means a
        /// model variant this importer would silently get wrong.
        func checkAllConsumed() throws(TensorIOError) {
            for name in model.variables.keys.sorted() where !consumed.contains(name) {
                if model.variables[name]!.isScalar { continue }
                throw fail(name, "unexpected variable for a Whisper model (not mapped to any Hugging Face tensor)")
            }
        }

        /// Number of `<prefix>/layer_N/` blocks, checking they are numbered 0..<N.
        func layerCount(_ prefix: String) throws(TensorIOError) -> Int {
            var seen = Set<Int>()
            for name in model.variables.keys where name.hasPrefix(prefix + "/layer_") {
                let rest = name.dropFirst(prefix.count + 7)
                guard let n = Int(rest.prefix { $0 != "/" }) else { continue }
                seen.insert(n)
            }
            guard seen == Set(0 ..< seen.count) else {
                throw fail(nil, "\(prefix) layers are not numbered 0..<\(seen.count): \(seen.sorted())")
            }
            return seen.count
        }

        func shape(_ name: String, rank: Int) throws(TensorIOError) -> [Int] {
            guard let v = model.variable(name) else { throw fail(name, "variable missing") }
            guard v.shape.count == rank else { throw fail(name, "rank \(v.shape.count), expected \(rank)") }
            return v.shape
        }

        func deriveConfig(configJSON: [String: JSONValue], configPath: String) throws(TensorIOError) -> WhisperConfig {
            let embed = try shape(CTranslate2WhisperNames.embeddings, rank: 2)
            let conv1 = try shape("encoder/conv1/weight", rank: 3)
            let encPos = try shape("encoder/position_encodings/encodings", rank: 2)
            let decPos = try shape("decoder/position_encodings/encodings", rank: 2)
            let encLayers = try layerCount("encoder"), decLayers = try layerCount("decoder")
            let encFFN = encLayers > 0 ? try shape("encoder/layer_0/ffn/linear_0/weight", rank: 2)[0] : 0
            let decFFN = decLayers > 0 ? try shape("decoder/layer_0/ffn/linear_0/weight", rank: 2)[0] : 0
            func heads(_ side: String) throws(TensorIOError) -> Int {
                if let h = model.scalarInt("\(side)/num_heads") { return h }
                if let h = configJSON["\(side)_attention_heads"]?.integer { return h }
                throw fail("\(side)/num_heads", "head count not found in model.bin nor as '\(side)_attention_heads' in config.json")
            }
            func ids(_ key: String) throws(TensorIOError) -> [Int] {
                guard let v = configJSON[key] else { return [] }
                guard let a = v.array else { throw .checkpoint(path: configPath, key: key, message: "expected an array of token ids") }
                var out = [Int]()
                for x in a {
                    guard let i = x.integer else { throw .checkpoint(path: configPath, key: key, message: "expected integer token ids") }
                    out.append(i)
                }
                return out
            }
            let d = embed[1]
            let config = WhisperConfig(
                numMelBins: conv1[1], dModel: d,
                encoderLayers: encLayers, encoderAttentionHeads: try heads("encoder"), encoderFFNDim: encFFN,
                decoderLayers: decLayers, decoderAttentionHeads: try heads("decoder"), decoderFFNDim: decFFN,
                vocabSize: embed[0], maxSourcePositions: encPos[0], maxTargetPositions: decPos[0],
                suppressTokens: try ids("suppress_ids"), beginSuppressTokens: try ids("suppress_ids_begin"))
            for (side, h) in [("encoder", config.encoderAttentionHeads), ("decoder", config.decoderAttentionHeads)] where h <= 0 || d % h != 0 {
                throw fail("\(side)/num_heads", "\(h) heads do not divide d_model \(d)")
            }
            return config
        }
    }
}

/// Reads a whole small file (configs, tokenizers).
func readFile(_ path: String) throws(TensorIOError) -> [UInt8] {
    do { return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
        throw .fileSystem(path: path, operation: "read", message: (error as NSError).localizedDescription)
    }
}

/// Reads a JSON file whose top level must be an object.
func readJSONObject(_ path: String) throws(TensorIOError) -> [String: JSONValue] {
    let bytes = try readFile(path)
    let value: JSONValue
    do { value = try JSONValue.parse(Data(bytes)) } catch {
        throw .checkpoint(path: path, key: nil, message: "not valid JSON (\(error))")
    }
    guard let object = value.object else { throw .checkpoint(path: path, key: nil, message: "top level is not a JSON object") }
    return object
}

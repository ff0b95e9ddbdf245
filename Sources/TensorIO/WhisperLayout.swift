import GlossaCore

/// The canonical (Hugging Face) tensor names and shapes of a Whisper model, derived
/// from its config. Every importer checks its output against this, and adapters are
/// validated against it.
public enum WhisperLayout {
    /// Every tensor of a canonical checkpoint with its shape (`proj_out.weight` is tied
    /// to `model.decoder.embed_tokens.weight` and not listed).
    public static func expectedShapes(for c: WhisperConfig) -> [String: [Int]] {
        let d = c.dModel
        var s = [String: [Int]]()
        func attention(_ p: String) {
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] { s["\(p).\(proj).weight"] = [d, d] }
            for proj in ["q_proj", "v_proj", "out_proj"] { s["\(p).\(proj).bias"] = [d] }
        }
        func norm(_ p: String) { s["\(p).weight"] = [d]; s["\(p).bias"] = [d] }
        func ffn(_ p: String, _ f: Int) {
            s["\(p).fc1.weight"] = [f, d]; s["\(p).fc1.bias"] = [f]
            s["\(p).fc2.weight"] = [d, f]; s["\(p).fc2.bias"] = [d]
        }
        s["model.encoder.conv1.weight"] = [d, c.numMelBins, 3]
        s["model.encoder.conv1.bias"] = [d]
        s["model.encoder.conv2.weight"] = [d, d, 3]
        s["model.encoder.conv2.bias"] = [d]
        s["model.encoder.embed_positions.weight"] = [c.maxSourcePositions, d]
        for i in 0 ..< c.encoderLayers {
            let p = "model.encoder.layers.\(i)"
            attention("\(p).self_attn"); norm("\(p).self_attn_layer_norm")
            ffn(p, c.encoderFFNDim); norm("\(p).final_layer_norm")
        }
        norm("model.encoder.layer_norm")
        s["model.decoder.embed_tokens.weight"] = [c.vocabSize, d]
        s["model.decoder.embed_positions.weight"] = [c.maxTargetPositions, d]
        for i in 0 ..< c.decoderLayers {
            let p = "model.decoder.layers.\(i)"
            attention("\(p).self_attn"); norm("\(p).self_attn_layer_norm")
            attention("\(p).encoder_attn"); norm("\(p).encoder_attn_layer_norm")
            ffn(p, c.decoderFFNDim); norm("\(p).final_layer_norm")
        }
        norm("model.decoder.layer_norm")
        return s
    }

    /// Linear modules (canonical paths without `.weight`) with their (in, out) features:
    /// the places a LoRA adapter may attach.
    public static func linearModules(for c: WhisperConfig) -> [String: (inFeatures: Int, outFeatures: Int)] {
        var m = [String: (Int, Int)]()
        for (name, shape) in expectedShapes(for: c) where name.hasSuffix(".weight") && shape.count == 2 {
            let module = String(name.dropLast(".weight".count))
            if module.hasSuffix("_proj") || module.hasSuffix(".fc1") || module.hasSuffix(".fc2") {
                m[module] = (shape[1], shape[0])
            }
        }
        return m
    }

    /// Checks that `tensors` holds exactly the expected names with the expected shapes;
    /// throws `.checkpoint` naming the first (sorted) offender.
    public static func validate(_ tensors: [String: TensorData], config: WhisperConfig, path: String) throws(TensorIOError) {
        let expected = expectedShapes(for: config)
        for name in expected.keys.sorted() {
            guard let t = tensors[name] else {
                throw .checkpoint(path: path, key: name, message: "tensor missing (expected shape \(expected[name]!))")
            }
            guard t.shape == expected[name]! else {
                throw .checkpoint(path: path, key: name, message: "shape \(t.shape) does not match \(expected[name]!) implied by the config")
            }
            guard t.dtype.isFloat else {
                throw .checkpoint(path: path, key: name, message: "dtype \(t.dtype.rawValue) is not a float type")
            }
        }
        if let extra = tensors.keys.sorted().first(where: { expected[$0] == nil }) {
            throw .checkpoint(path: path, key: extra, message: "unexpected tensor for this Whisper config")
        }
    }
}

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
        func norm(_ p: String) { s["\(p).weight"] = [d]; s["\(p).bias"] = [d] }
        s["model.encoder.conv1.weight"] = [d, c.numMelBins, 3]
        s["model.encoder.conv1.bias"] = [d]
        s["model.encoder.conv2.weight"] = [d, d, 3]
        s["model.encoder.conv2.bias"] = [d]
        s["model.encoder.embed_positions.weight"] = [c.maxSourcePositions, d]
        s["model.decoder.embed_tokens.weight"] = [c.vocabSize, d]
        s["model.decoder.embed_positions.weight"] = [c.maxTargetPositions, d]
        for stack in Stack.allCases {
            for i in 0 ..< layerCount(stack, c) {
                for l in linears(of: stack) {
                    let shape = self.shape(of: l, in: stack, config: c)
                    s[module(stack, i, l) + ".weight"] = shape
                    if l.hasBias { s[module(stack, i, l) + ".bias"] = [shape[0]] }
                }
                norm(self.norm(stack, i, .selfAttention)); norm(self.norm(stack, i, .final))
                if stack == .decoder { norm(self.norm(stack, i, .encoderAttention)) }
            }
        }
        norm("model.encoder.layer_norm")
        norm("model.decoder.layer_norm")
        return s
    }

    /// Linear modules (canonical paths without `.weight`) with their (in, out) features:
    /// the places a LoRA adapter may attach.
    public static func linearModules(for c: WhisperConfig) -> [String: (inFeatures: Int, outFeatures: Int)] {
        var m = [String: (Int, Int)]()
        for stack in Stack.allCases {
            for i in 0 ..< layerCount(stack, c) {
                for l in linears(of: stack) { let s = shape(of: l, in: stack, config: c); m[module(stack, i, l)] = (s[1], s[0]) }
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

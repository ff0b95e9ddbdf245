import GlossaCore

extension LoRAWeights {
    /// Checks that every module is a linear layer of a Whisper model with `config` and
    /// that its factors fit: lora_A [r, in], lora_B [out, r] with the layer's in/out
    /// features. Throws `.adapterMismatch` naming the first (sorted) module that does not fit.
    public func validate(against config: WhisperConfig) throws(TensorIOError) {
        let linear = WhisperLayout.linearModules(for: config)
        try validate { module in linear[module].map { [$0.outFeatures, $0.inFeatures] } }
    }

    /// Like `validate(against: WhisperConfig)` but with the checkpoint's actual weights:
    /// each module needs a 2-D `<module>.weight` of shape [out, in].
    public func validate(against checkpoint: WhisperCheckpoint) throws(TensorIOError) {
        try validate { module in
            guard let w = checkpoint.tensors[module + ".weight"], w.shape.count == 2 else { return nil }
            return w.shape
        }
    }

    private func validate(baseShape: (String) -> [Int]?) throws(TensorIOError) {
        for module in modules.keys.sorted() {
            let pair = modules[module]!
            guard let base = baseShape(module) else {
                throw .adapterMismatch(module: module, message: "the base model has no linear layer of that name (expected e.g. model.decoder.layers.0.encoder_attn.q_proj)")
            }
            let (out, inFeatures) = (base[0], base[1])
            guard pair.a.shape.count == 2, pair.b.shape.count == 2 else {
                throw .adapterMismatch(module: module, message: "lora_A \(pair.a.shape) and lora_B \(pair.b.shape) must be matrices")
            }
            guard pair.a.shape[0] == pair.b.shape[1] else {
                throw .adapterMismatch(module: module, message: "rank mismatch: lora_A has r = \(pair.a.shape[0]), lora_B has r = \(pair.b.shape[1])")
            }
            guard pair.a.shape[1] == inFeatures else {
                throw .adapterMismatch(module: module, message: "lora_A is \(pair.a.shape) but the layer takes \(inFeatures) inputs (expected [\(pair.a.shape[0]), \(inFeatures)])")
            }
            guard pair.b.shape[0] == out else {
                throw .adapterMismatch(module: module, message: "lora_B is \(pair.b.shape) but the layer has \(out) outputs (expected [\(out), \(pair.b.shape[1])])")
            }
            guard pair.scale.isFinite else {
                throw .adapterMismatch(module: module, message: "scale \(pair.scale) is not finite")
            }
        }
    }
}

extension PEFTAdapter {
    /// See `LoRAWeights.validate(against:)`.
    public func validate(against config: WhisperConfig) throws(TensorIOError) { try weights.validate(against: config) }
    /// See `LoRAWeights.validate(against:)`.
    public func validate(against checkpoint: WhisperCheckpoint) throws(TensorIOError) { try weights.validate(against: checkpoint) }
}

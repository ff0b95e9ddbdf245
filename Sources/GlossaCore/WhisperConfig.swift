/// Dimensions and decoding constants of a Whisper model, in Hugging Face
/// `config.json` spelling (snake_case keys), which is Glossa's canonical form.
///
/// Every importer (CTranslate2, Hugging Face) produces this value; the runtime and the
/// trainer read only this value, never a source format.
public struct WhisperConfig: Codable, Sendable, Equatable {
    /// Mel bins of the input features (80 for base, 128 for large-v3).
    public var numMelBins: Int
    /// Model width d.
    public var dModel: Int
    public var encoderLayers: Int
    public var encoderAttentionHeads: Int
    public var encoderFFNDim: Int
    public var decoderLayers: Int
    public var decoderAttentionHeads: Int
    public var decoderFFNDim: Int
    public var vocabSize: Int
    /// Encoder positions (1500 = 3000 mel frames / 2 after conv2's stride).
    public var maxSourcePositions: Int
    /// Decoder positions (448).
    public var maxTargetPositions: Int
    /// Token ids never sampled (from generation config / CTranslate2 `suppress_ids`).
    public var suppressTokens: [Int]
    /// Token ids not allowed as the first sampled token (`suppress_ids_begin`).
    public var beginSuppressTokens: [Int]

    public init(numMelBins: Int, dModel: Int, encoderLayers: Int, encoderAttentionHeads: Int, encoderFFNDim: Int,
                decoderLayers: Int, decoderAttentionHeads: Int, decoderFFNDim: Int, vocabSize: Int,
                maxSourcePositions: Int, maxTargetPositions: Int, suppressTokens: [Int], beginSuppressTokens: [Int]) {
        self.numMelBins = numMelBins; self.dModel = dModel
        self.encoderLayers = encoderLayers; self.encoderAttentionHeads = encoderAttentionHeads; self.encoderFFNDim = encoderFFNDim
        self.decoderLayers = decoderLayers; self.decoderAttentionHeads = decoderAttentionHeads; self.decoderFFNDim = decoderFFNDim
        self.vocabSize = vocabSize; self.maxSourcePositions = maxSourcePositions; self.maxTargetPositions = maxTargetPositions
        self.suppressTokens = suppressTokens; self.beginSuppressTokens = beginSuppressTokens
    }

    enum CodingKeys: String, CodingKey {
        case numMelBins = "num_mel_bins", dModel = "d_model"
        case encoderLayers = "encoder_layers", encoderAttentionHeads = "encoder_attention_heads", encoderFFNDim = "encoder_ffn_dim"
        case decoderLayers = "decoder_layers", decoderAttentionHeads = "decoder_attention_heads", decoderFFNDim = "decoder_ffn_dim"
        case vocabSize = "vocab_size", maxSourcePositions = "max_source_positions", maxTargetPositions = "max_target_positions"
        case suppressTokens = "suppress_tokens", beginSuppressTokens = "begin_suppress_tokens"
    }
}

/// A Whisper base model in canonical form.
///
/// Tensor names are Hugging Face `WhisperForConditionalGeneration` names without the
/// `proj_out` alias (it is tied to `model.decoder.embed_tokens.weight`), for example:
///
///     model.encoder.conv1.weight                       [d, n_mels, 3]
///     model.encoder.conv2.weight                       [d, d, 3]      (stride 2)
///     model.encoder.embed_positions.weight             [1500, d]
///     model.encoder.layers.{i}.self_attn.{q,k,v,out}_proj.weight   [d, d]
///     model.encoder.layers.{i}.self_attn.{q,v,out}_proj.bias       [d]   (k_proj has no bias)
///     model.encoder.layers.{i}.self_attn_layer_norm.{weight,bias}  [d]
///     model.encoder.layers.{i}.fc1.{weight,bias}       [ffn, d], [ffn]
///     model.encoder.layers.{i}.fc2.{weight,bias}       [d, ffn], [d]
///     model.encoder.layers.{i}.final_layer_norm.{weight,bias}
///     model.encoder.layer_norm.{weight,bias}
///     model.decoder.embed_tokens.weight                [vocab, d]
///     model.decoder.embed_positions.weight             [448, d]
///     model.decoder.layers.{i}.self_attn.*  / encoder_attn.*  (same shapes as above)
///     model.decoder.layers.{i}.{self_attn,encoder_attn,final}_layer_norm.*
///     model.decoder.layer_norm.{weight,bias}
///
/// Weights are stored in the dtype they were imported with (f32 or f16; int8 weights are
/// dequantised to f32 on import).
public struct WhisperCheckpoint: Sendable {
    public var config: WhisperConfig
    public var tensors: [String: TensorData]
    /// The Hugging Face `tokenizer.json` bytes (byte-level BPE with added special tokens).
    public var tokenizerJSON: [UInt8]

    public init(config: WhisperConfig, tensors: [String: TensorData], tokenizerJSON: [UInt8]) {
        self.config = config; self.tensors = tensors; self.tokenizerJSON = tokenizerJSON
    }
}

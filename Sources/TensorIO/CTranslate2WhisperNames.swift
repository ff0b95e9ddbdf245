import GlossaCore

/// The one definition of how a CTranslate2 `WhisperSpec` model.bin names Whisper's tensors,
/// read by `CTranslate2Whisper.load` and written by `CTranslate2Whisper.write`.
///
/// Name mapping (CTranslate2 -> Hugging Face, `E` = encoder/layer_i, `D` = decoder/layer_i):
///
///     encoder/conv{1,2}/{weight,bias}             model.encoder.conv{1,2}.*
///     encoder/position_encodings/encodings        model.encoder.embed_positions.weight   (sinusoids, [1500, d])
///     E/self_attention/layer_norm/{gamma,beta}    ...self_attn_layer_norm.{weight,bias}
///     E/self_attention/linear_0  [3d, d]          ...self_attn.{q,k,v}_proj  (rows 0..<d, d..<2d, 2d..<3d;
///                                                 the k bias is all zero in CT2 and absent in HF)
///     E/self_attention/linear_1                   ...self_attn.out_proj
///     E/ffn/layer_norm                            ...final_layer_norm
///     E/ffn/linear_{0,1}                          ...fc1, ...fc2
///     D/attention/layer_norm                      ...encoder_attn_layer_norm
///     D/attention/linear_0                        ...encoder_attn.q_proj
///     D/attention/linear_1  [2d, d]               ...encoder_attn.{k,v}_proj (k bias zero, absent in HF)
///     D/attention/linear_2                        ...encoder_attn.out_proj
///     decoder/embeddings/weight                   model.decoder.embed_tokens.weight
///     decoder/projection/weight                   (alias of the embeddings: tied proj_out)
///     decoder/position_encodings/encodings        model.decoder.embed_positions.weight
///     {encoder,decoder}/layer_norm                model.{encoder,decoder}.layer_norm
public enum CTranslate2WhisperNames {
    /// `WhisperSpec` revision 3 is what ctranslate2 4.x writes and reads.
    public static let specName = "WhisperSpec"
    public static let specRevision: UInt32 = 3
    /// Alias CTranslate2 resolves for the output projection (Whisper ties it to the embeddings).
    public static let projection = "decoder/projection/weight"
    public static let embeddings = "decoder/embeddings/weight"

    /// One row of the table.
    public enum Entry: Equatable, Sendable {
        /// One CT2 variable is one Hugging Face tensor.
        case tensor(ct2: String, hf: String)
        /// `ct2 + "/weight"` and `"/bias"` stack the row blocks `projections` (each [d, d] / [d])
        /// of `hfPrefix.<projection>`; the `k_proj` block's bias is zero in CT2 and has no HF tensor.
        case fused(ct2: String, hfPrefix: String, projections: [String])
    }

    /// Every entry for a model with these layer counts, in the order the reader maps them.
    public static func entries(encoderLayers: Int, decoderLayers: Int) -> [Entry] {
        var e: [Entry] = []
        func linear(_ ct2: String, _ hf: String) {
            e.append(.tensor(ct2: ct2 + "/weight", hf: hf + ".weight"))
            e.append(.tensor(ct2: ct2 + "/bias", hf: hf + ".bias"))
        }
        func norm(_ ct2: String, _ hf: String) {
            e.append(.tensor(ct2: ct2 + "/gamma", hf: hf + ".weight"))
            e.append(.tensor(ct2: ct2 + "/beta", hf: hf + ".bias"))
        }
        for conv in ["conv1", "conv2"] { linear("encoder/\(conv)", "model.encoder.\(conv)") }
        e.append(.tensor(ct2: "encoder/position_encodings/encodings", hf: "model.encoder.embed_positions.weight"))
        // Self-attention (q, k, v fused in CTranslate2) of a layer, and its feed-forward block:
        // the same names in encoder and decoder layers.
        func selfAttention(_ p: String, _ h: String) {
            norm("\(p)/self_attention/layer_norm", "\(h).self_attn_layer_norm")
            e.append(.fused(ct2: "\(p)/self_attention/linear_0", hfPrefix: "\(h).self_attn", projections: ["q_proj", "k_proj", "v_proj"]))
            linear("\(p)/self_attention/linear_1", "\(h).self_attn.out_proj")
        }
        func feedForward(_ p: String, _ h: String) {
            norm("\(p)/ffn/layer_norm", "\(h).final_layer_norm")
            linear("\(p)/ffn/linear_0", "\(h).fc1")
            linear("\(p)/ffn/linear_1", "\(h).fc2")
        }
        for i in 0 ..< encoderLayers {
            let p = "encoder/layer_\(i)", h = "model.encoder.layers.\(i)"
            selfAttention(p, h)
            feedForward(p, h)
        }
        norm("encoder/layer_norm", "model.encoder.layer_norm")
        e.append(.tensor(ct2: embeddings, hf: "model.decoder.embed_tokens.weight"))
        e.append(.tensor(ct2: "decoder/position_encodings/encodings", hf: "model.decoder.embed_positions.weight"))
        for i in 0 ..< decoderLayers {
            let p = "decoder/layer_\(i)", h = "model.decoder.layers.\(i)"
            selfAttention(p, h)
            norm("\(p)/attention/layer_norm", "\(h).encoder_attn_layer_norm")
            linear("\(p)/attention/linear_0", "\(h).encoder_attn.q_proj")
            e.append(.fused(ct2: "\(p)/attention/linear_1", hfPrefix: "\(h).encoder_attn", projections: ["k_proj", "v_proj"]))
            linear("\(p)/attention/linear_2", "\(h).encoder_attn.out_proj")
            feedForward(p, h)
        }
        norm("decoder/layer_norm", "model.decoder.layer_norm")
        return e
    }

    /// A scalar variable of the spec with the value Whisper needs.
    public struct Scalar: Equatable, Sendable {
        public var name: String
        public var dtype: DType
        public var value: Int
        /// True when another value changes the math (the reader refuses it); false for
        /// bookkeeping values (alignment defaults) the reader ignores.
        public var fixesMath: Bool
    }

    /// The scalars every Whisper model.bin has the same value for, as ctranslate2's converter
    /// writes them (TransformerDecoderSpec, WhisperEncoderSpec). CTranslate2's C++ defaults
    /// differ for some (activation ReLU, scale_embeddings true), so a writer must emit them all.
    ///
    ///     decoder/activation 3        GELU (erf), CTranslate2's ActivationType
    ///     decoder/alibi 0, decoder/scale_embeddings 0, decoder/pre_norm 1
    ///     decoder/start_from_zero_embedding 0
    ///     decoder/alignment_heads 1, decoder/alignment_layer -1   (i16; word timestamps use config.json's heads)
    public static let fixedScalars: [Scalar] = [
        Scalar(name: "decoder/activation", dtype: .i8, value: 3, fixesMath: true),
        Scalar(name: "decoder/alibi", dtype: .i8, value: 0, fixesMath: true),
        Scalar(name: "decoder/alignment_heads", dtype: .i16, value: 1, fixesMath: false),
        Scalar(name: "decoder/alignment_layer", dtype: .i16, value: -1, fixesMath: false),
        Scalar(name: "decoder/pre_norm", dtype: .i8, value: 1, fixesMath: true),
        Scalar(name: "decoder/scale_embeddings", dtype: .i8, value: 0, fixesMath: true),
        Scalar(name: "decoder/start_from_zero_embedding", dtype: .i8, value: 0, fixesMath: true),
    ]

    /// Every scalar a model with these head counts has: `fixedScalars` plus `{encoder,decoder}/num_heads` (i16).
    public static func scalars(encoderHeads: Int, decoderHeads: Int) -> [Scalar] {
        fixedScalars + [Scalar(name: "decoder/num_heads", dtype: .i16, value: decoderHeads, fixesMath: false),
                        Scalar(name: "encoder/num_heads", dtype: .i16, value: encoderHeads, fixesMath: false)]
    }
}

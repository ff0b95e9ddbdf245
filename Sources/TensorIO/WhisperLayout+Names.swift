import GlossaCore

// The one table of Whisper's layer and tensor names (Hugging Face naming). Every place that
// spells a block path builds it here: the runtime's loader (WhisperModel), the trainer's LoRA
// sites, the random test checkpoints and `expectedShapes`.
//
//   model.{encoder,decoder}.layers.{i}                 block(stack, i)
//     .self_attn.{q,k,v,out}_proj                      BlockLinear.self*
//     .encoder_attn.{q,k,v,out}_proj   (decoder only)  BlockLinear.cross*
//     .fc1, .fc2                                       BlockLinear.fc1, .fc2
//     .{self_attn,encoder_attn,final}_layer_norm       BlockNorm

extension WhisperLayout {
    /// The two transformer stacks.
    public enum Stack: String, Sendable, CaseIterable { case encoder, decoder }

    /// The linear layers of one block, by their path inside it: the places a LoRA adapter may
    /// attach. `k_proj` has no bias in Hugging Face checkpoints.
    public enum BlockLinear: String, Sendable, CaseIterable {
        case selfQ = "self_attn.q_proj", selfK = "self_attn.k_proj", selfV = "self_attn.v_proj", selfOut = "self_attn.out_proj"
        case crossQ = "encoder_attn.q_proj", crossK = "encoder_attn.k_proj", crossV = "encoder_attn.v_proj"
        case crossOut = "encoder_attn.out_proj"
        case fc1, fc2

        /// True for the decoder's cross-attention (`encoder_attn`), which encoder blocks lack.
        public var isCrossAttention: Bool { [.crossQ, .crossK, .crossV, .crossOut].contains(self) }
        /// True when the checkpoint has a bias for it (every linear but the k projections).
        public var hasBias: Bool { self != .selfK && self != .crossK }
    }

    /// The layer norms of one block (`encoderAttention`: decoder only).
    public enum BlockNorm: String, Sendable {
        case selfAttention = "self_attn_layer_norm", encoderAttention = "encoder_attn_layer_norm", final = "final_layer_norm"
    }

    /// How many blocks `stack` has.
    public static func layerCount(_ stack: Stack, _ c: WhisperConfig) -> Int { stack == .encoder ? c.encoderLayers : c.decoderLayers }

    /// `model.{stack}.layers.{i}`
    public static func block(_ stack: Stack, _ i: Int) -> String { "model.\(stack.rawValue).layers.\(i)" }

    /// `model.{stack}.layers.{i}.{linear}` (a module path; tensors add `.weight` / `.bias`).
    public static func module(_ stack: Stack, _ i: Int, _ linear: BlockLinear) -> String { "\(block(stack, i)).\(linear.rawValue)" }

    /// `model.{stack}.layers.{i}.{norm}` (tensors add `.weight` / `.bias`).
    public static func norm(_ stack: Stack, _ i: Int, _ norm: BlockNorm) -> String { "\(block(stack, i)).\(norm.rawValue)" }

    /// The linears of a block of `stack` in canonical order: self-attention q, k, v, out;
    /// cross-attention q, k, v, out (decoder); fc1, fc2.
    public static func linears(of stack: Stack) -> [BlockLinear] {
        BlockLinear.allCases.filter { stack == .decoder || !$0.isCrossAttention }
    }

    /// [out, in] of `linear` in a block of `stack`.
    public static func shape(of linear: BlockLinear, in stack: Stack, config c: WhisperConfig) -> [Int] {
        let ffn = stack == .encoder ? c.encoderFFNDim : c.decoderFFNDim
        switch linear {
        case .fc1: return [ffn, c.dModel]
        case .fc2: return [c.dModel, ffn]
        default: return [c.dModel, c.dModel]
        }
    }

    /// Every adaptable module path of a model in canonical order (encoder layers, then
    /// decoder layers; inside a layer `linears(of:)` order).
    public static func adaptableModules(for c: WhisperConfig) -> [String] {
        Stack.allCases.flatMap { s in
            (0..<layerCount(s, c)).flatMap { i in linears(of: s).map { module(s, i, $0) } }
        }
    }
}

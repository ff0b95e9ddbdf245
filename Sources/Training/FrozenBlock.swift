import TensorIO
import Whisper

/// One transformer block's frozen weights as the training graph uses them: views of the
/// runtime model's layers (`WhisperModel`, shared storage, no f32 copy). The fused q|k|v
/// [3d, d] (and cross-attention k|v [2d, d]) are seen as their [d, d] row blocks, k with the
/// zero bias the loader gave it. Decoder blocks also carry cross-attention.
struct FrozenBlock: Sendable {
    var attnLN: LayerNormWeights
    var q, k, v, o: FrozenLinear
    var crossLN: LayerNormWeights?
    var cq, ck, cv, co: FrozenLinear?
    var finalLN: LayerNormWeights
    var fc1, fc2: FrozenLinear

    init(_ l: EncoderLayerWeights) {
        let qkv = FrozenLinear.rowBlocks(of: l.qkv)
        attnLN = l.selfAttnNorm
        (q, k, v, o) = (qkv[0], qkv[1], qkv[2], FrozenLinear(l.out))
        finalLN = l.ffnNorm
        (fc1, fc2) = (FrozenLinear(l.fc1), FrozenLinear(l.fc2))
    }

    init(_ l: DecoderLayerWeights) {
        let qkv = FrozenLinear.rowBlocks(of: l.selfQKV), kv = FrozenLinear.rowBlocks(of: l.crossKV)
        attnLN = l.selfAttnNorm
        (q, k, v, o) = (qkv[0], qkv[1], qkv[2], FrozenLinear(l.selfOut))
        crossLN = l.crossNorm
        (cq, ck, cv, co) = (FrozenLinear(l.crossQ), kv[0], kv[1], FrozenLinear(l.crossOut))
        finalLN = l.ffnNorm
        (fc1, fc2) = (FrozenLinear(l.fc1), FrozenLinear(l.fc2))
    }
}

extension FrozenLinear {
    /// The square [in, in] row blocks of a fused weight [k * in, in] (q|k|v, or k|v), in order.
    static func rowBlocks(of w: LinearWeights) -> [FrozenLinear] {
        let d = w.inFeatures
        precondition(w.outFeatures % d == 0, "rowBlocks: [\(w.outFeatures), \(d)] is not a stack of [\(d), \(d)] blocks")
        return (0..<(w.outFeatures / d)).map { FrozenLinear(w, rowOffset: $0 * d, outDim: d) }
    }
}

/// Module paths of one block's linear layers (from `WhisperLayout`'s name table), used to
/// look up LoRA factors.
struct BlockNames: Sendable {
    let q, k, v, o, cq, ck, cv, co, fc1, fc2: String
    init(_ stack: WhisperLayout.Stack, _ i: Int) {
        func name(_ l: WhisperLayout.BlockLinear) -> String { WhisperLayout.module(stack, i, l) }
        (q, k, v, o) = (name(.selfQ), name(.selfK), name(.selfV), name(.selfOut))
        (cq, ck, cv, co) = (name(.crossQ), name(.crossK), name(.crossV), name(.crossOut))
        (fc1, fc2) = (name(.fc1), name(.fc2))
    }
    var all: [String] { [q, k, v, o, cq, ck, cv, co, fc1, fc2] }
}

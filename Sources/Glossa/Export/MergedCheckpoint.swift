import Foundation
import GlossaCore
import Tensor
import TensorIO

/// The base with one adapter folded in: what `export --format hf|ct2` write.
extension Registry {
    /// `ref` (an expert, or a composite that is one plain LoRA) merged into its base:
    /// every adapted linear W [out, in] becomes W + s * B [out, r] * A [r, in], computed in f32
    /// from the stored factors, then every float tensor is stored in `dtype` (f16 rounds to
    /// nearest even; f32 widens exactly). `base`, when given, must be the base the adapter was
    /// made for. A routed set (a shared part plus per-language residuals) is refused: a merged
    /// model holds one adapter.
    public func mergedCheckpoint(_ ref: String, base: String? = nil, dtype: DType,
                                 compute: Compute) throws(GlossaError) -> WhisperCheckpoint {
        guard dtype == .f16 || dtype == .f32 else {
            throw GlossaError(.invalidInput, "Cannot merge \(ref): weights are written as f16 or f32, not \(dtype.rawValue)")
        }
        let (adapters, baseDigest) = try loadAdapters(ref)
        guard adapters.count == 1, adapters[0].role == .expert else {
            throw GlossaError(.invalidInput, "\(ref) is routed by language (\(adapters.count) adapters: a shared part and "
                              + "per-language residuals); a merged model holds one adapter: export it as a bundle (--format oci)")
        }
        if let base, try resolve(base) != baseDigest {
            throw GlossaError(.invalidInput, "\(ref) was made for base \(baseDigest.short), not \(base); "
                              + "omit --model (the adapter's own base is used) or choose an adapter of \(base)")
        }
        var (checkpoint, _) = try loadBase(baseDigest.description)
        for (module, pair) in adapters[0].weights.modules.sorted(by: { $0.key < $1.key }) {
            let name = module + ".weight"
            guard let w = checkpoint.tensors[name], w.shape.count == 2, pair.b.shape[0] == w.shape[0], pair.a.shape[1] == w.shape[1] else {
                throw GlossaError(.invalidInput, "\(ref): \(module) does not fit the base weight \(name)")
            }
            var merged: [Float], a: [Float], b: [Float]
            do { merged = try HalfConversion.floats(from: w); a = try HalfConversion.floats(from: pair.a); b = try HalfConversion.floats(from: pair.b) }
            catch { throw GlossaError(.invalidInput, "\(ref): \(module): \(error)") }
            let (out, inF, r) = (w.shape[0], w.shape[1], pair.rank)
            // W [out, in] += s * B [out, r] A [r, in]
            merged.withUnsafeMutableBufferPointer { wp in b.withUnsafeBufferPointer { bp in a.withUnsafeBufferPointer { ap in
                compute.blas.sgemm(m: out, n: inF, k: r, alpha: Float(pair.scale), a: bp.baseAddress!, lda: r, b: ap.baseAddress!, ldb: inF,
                                   beta: 1, c: wp.baseAddress!, ldc: inF)
            } } }
            guard merged.allSatisfy(\.isFinite) else { throw GlossaError(.invalidInput, "\(ref): merging \(module) gives NaN or infinity") }
            checkpoint.tensors[name] = HalfConversion.f32Data(merged, shape: w.shape)
        }
        for (name, t) in checkpoint.tensors where t.dtype.isFloat && t.dtype != dtype {
            // One file holds one dtype: f16 / bf16 widen exactly, f32 narrows to nearest even.
            let out = t.converted(to: dtype)
            guard out.dtype == dtype else {
                throw GlossaError(.invalidInput, "\(ref): base tensor \(name) is \(t.dtype.rawValue), which has no \(dtype.rawValue) form; "
                                  + "only F32, F16 and BF16 weights can be merged")
            }
            checkpoint.tensors[name] = out
        }
        return checkpoint
    }
}

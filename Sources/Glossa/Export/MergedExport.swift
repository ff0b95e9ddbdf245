import Foundation
import GlossaCore
import Tensor
import TensorIO

/// `glossa export --format hf`: the base with one adapter folded in (W += s B A on every
/// adapted linear), written as a Hugging Face Whisper folder (`config.json`,
/// `generation_config.json`, `model.safetensors`, `tokenizer.json`) that transformers loads
/// and any Whisper runtime runs at zero adapter cost.
extension Registry {
    /// Writes `ref` (an expert, or a composite that is one plain LoRA) merged into its base at
    /// `path`: built in a sibling folder and renamed into place; an existing `path` is refused
    /// unless `force`. Base tensors are written in `dtype` (f16 rounds to nearest even).
    public func exportMergedHF(_ ref: String, to path: String, dtype: DType, force: Bool, compute: Compute) throws(GlossaError) {
        let (adapters, baseDigest) = try loadAdapters(ref)
        guard adapters.count == 1, adapters[0].role == .expert else {
            throw GlossaError(.invalidInput, "\(ref) is routed by language (\(adapters.count) adapters: a shared part and per-language residuals); a merged model holds one adapter: export it as a bundle (--format oci)")
        }
        try Self.refuseExisting(path, force: force)
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
        for (name, t) in checkpoint.tensors where t.dtype.isFloat { checkpoint.tensors[name] = Self.converted(t, to: dtype) }
        let merged = checkpoint
        try Self.writeFolder(path, force: force) { staging throws(GlossaError) in
            do throws(TensorIOError) { try HuggingFaceWhisper.write(merged, to: staging) } catch { throw Self.wrap(error, "Cannot write \(path)") }
        }
    }

    /// `--format peft`: writes `ref` (one plain LoRA) as a PEFT folder at `path`, built beside
    /// it and renamed into place; an existing `path` is refused unless `force`.
    public func exportPEFT(_ ref: String, to path: String, force: Bool) throws(GlossaError) {
        try Self.refuseExisting(path, force: force)
        try Self.writeFolder(path, force: force) { staging throws(GlossaError) in try exportPEFT(ref, to: staging) }
    }

    static func refuseExisting(_ path: String, force: Bool) throws(GlossaError) {
        if FileManager.default.fileExists(atPath: path) && !force {
            throw GlossaError(.invalidInput, "\(path) already exists; choose another --out or pass --force to replace it")
        }
    }

    /// Runs `write` on a hidden sibling folder of `path`, then renames it into place (replacing
    /// `path` only with `force`): an error or a kill never leaves a half-written `path`.
    static func writeFolder(_ path: String, force: Bool, _ write: (URL) throws(GlossaError) -> Void) throws(GlossaError) {
        try refuseExisting(path, force: force)
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path)
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())")
        try? fm.removeItem(at: staging)
        defer { try? fm.removeItem(at: staging) }
        try write(staging)
        do {
            if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
            try fm.moveItem(at: staging, to: target)
        } catch { throw GlossaError(.failure, "Cannot move the export into \(path): \(error)") }
    }
}

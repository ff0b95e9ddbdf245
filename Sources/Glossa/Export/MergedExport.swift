import DurableFiles
import Foundation
import GlossaCore
import Tensor
import TensorIO

/// The folder formats a merged model is written in.
public enum MergedFormat: String, Sendable, CaseIterable {
    /// Hugging Face Whisper (`config.json`, `generation_config.json`, `model.safetensors`,
    /// `tokenizer.json`): transformers loads it.
    case hf
    /// CTranslate2 Whisper (`model.bin`, `config.json`, `vocabulary.json`, `tokenizer.json`,
    /// `preprocessor_config.json`): ctranslate2 and faster-whisper load it.
    case ct2
}

/// `glossa export --format hf|ct2`: the base with one adapter folded in (W += s B A on every
/// adapted linear), which any Whisper runtime of that format runs at zero adapter cost.
extension Registry {
    /// Writes `ref` (an expert, or a composite that is one plain LoRA) merged into its base
    /// (`mergedCheckpoint`) as a `format` folder at `path`: built in a sibling folder and
    /// renamed into place; an existing `path` is refused unless `force`. Tensors are written in
    /// `dtype`.
    public func exportMerged(_ ref: String, base: String? = nil, format: MergedFormat, to path: String, dtype: DType, force: Bool,
                             compute: Compute) throws(GlossaError) {
        try Self.refuseExisting(path, force: force)
        let merged = try mergedCheckpoint(ref, base: base, dtype: dtype, compute: compute)
        try Self.writeFolder(path, force: force) { staging throws(GlossaError) in
            do throws(TensorIOError) {
                switch format {
                case .hf: try HuggingFaceWhisper.write(merged, to: staging)
                case .ct2: try CTranslate2Whisper.write(merged, to: staging)
                }
            } catch { throw Self.wrap(error, "Cannot write \(path)") }
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
        let staging = AtomicDirectory.stagingPath(for: path)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try write(URL(fileURLWithPath: staging))
        do { try AtomicDirectory.moveIntoPlace(staging, at: path) } catch {
            throw GlossaError(.failure, "Cannot move the export into \(path): \(error)")
        }
    }
}

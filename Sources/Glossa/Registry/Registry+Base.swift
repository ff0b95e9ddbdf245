import Foundation
import GlossaCore
import Store
import TensorIO

extension Registry {
    /// Imports a Whisper model folder (CTranslate2 `model.bin` or Hugging Face
    /// `model.safetensors`) as a base model. Tensors already stored are not stored again.
    /// Deterministic: the manifest records no import time, so importing the same files under
    /// the same name, version and description in any registry gives the same digest (and
    /// under any name the same `weightsDigest`, which experts pin as `base_weights`).
    public func importBase(folder: URL, name: String, version: String, description: String? = nil,
                           progress: (Int, Int) -> Void = { _, _ in }) throws(GlossaError) -> (Digest, BaseManifest) {
        let checkpoint = try SpeechModel.loadCheckpoint(folder: folder)
        let isCT2 = FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.bin").path)
        let sourceFile = folder.appendingPathComponent(isCT2 ? "model.bin" : "model.safetensors")
        let sourceDigest: Digest
        do { sourceDigest = try Self.fileDigest(sourceFile) } catch {
            throw GlossaError(.invalidInput, "Cannot read \(sourceFile.path): \(error.localizedDescription)")
        }
        // Everything is checked before anything is written (a refused import leaves no
        // blobs): the manifest is built with the digests of the bytes about to be stored
        // (the store names blobs by exactly these) and validated, and name:version must be free.
        let names = checkpoint.tensors.keys.sorted()
        let entries = checkpoint.tensors.mapValues { TensorEntry(digest: Digest(of: $0.bytes), dtype: $0.dtype, shape: $0.shape) }
        let m = BaseManifest(name: name, version: version, config: checkpoint.config, tensors: entries,
                             tokenizer: Digest(of: checkpoint.tokenizerJSON),
                             source: .init(format: isCT2 ? "ctranslate2" : "huggingface", digest: sourceDigest),
                             description: description)
        do { try m.validate() } catch { throw GlossaError(.invalidInput, "Cannot import base model \(name):\(version): \(error)") }
        do {
            try store.checkVersionFree(name: name, version: version)
            for (i, n) in names.enumerated() {
                _ = try store.putTensor(checkpoint.tensors[n]!)
                progress(i + 1, names.count)
            }
            _ = try store.putBlob(checkpoint.tokenizerJSON)
            let d = try store.publish(m)
            return (d, m)
        } catch {
            throw Self.wrap(error, "Cannot import base model \(name):\(version) from \(folder.path)")
        }
    }

    /// Loads a base model from the registry (every blob's digest re-checked on read).
    public func loadBase(_ ref: String) throws(GlossaError) -> (WhisperCheckpoint, Digest) {
        let d = try resolve(ref)
        guard case .base(let m) = try manifest(d) else {
            throw GlossaError(.invalidInput, "'\(ref)' is not a base model (it is \(try manifest(d).kind)); give a base such as whisper-base")
        }
        do {
            var tensors: [String: TensorData] = [:]
            for (n, e) in m.tensors { tensors[n] = try store.tensor(e) }
            return (WhisperCheckpoint(config: m.config, tensors: tensors, tokenizerJSON: try store.blob(m.tokenizer)), d)
        } catch {
            throw Self.wrap(error, "Cannot load base \(m.name):\(m.version)")
        }
    }

    /// The base to use when the user names none: the only base in the registry.
    public func defaultBase() throws(GlossaError) -> Digest {
        let bases = try list(ArtifactFilter(kind: .base))
        guard let first = bases.first else {
            throw GlossaError(.notFound, "No base model in \(root.path); run `glossa base fetch` or `glossa base import DIR`")
        }
        guard bases.count == 1 else {
            throw GlossaError(.invalidInput, "Several base models in \(root.path) (\(bases.map(\.displayName).joined(separator: ", "))); choose one with --base")
        }
        return first.digest
    }

    static func fileDigest(_ url: URL) throws -> Digest {
        let h = try FileHandle(forReadingFrom: url)
        defer { try? h.close() }
        var hasher = DigestHasher()
        while let chunk = try h.read(upToCount: 1 << 22), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalize()
    }
}

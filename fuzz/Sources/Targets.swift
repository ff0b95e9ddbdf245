import Foundation
import GlossaCore
import OCI
import Store
import TensorIO
import Whisper

/// One parser fed untrusted bytes. `run` must return normally for every input: a thrown
/// error is the parser refusing bad input (fine); a trap, an abort, a sanitizer report or an
/// allocation past libFuzzer's `-rss_limit_mb` is a bug.
struct FuzzTarget: Sendable {
    let name: String
    /// What the bytes are and where they come from in real use.
    let summary: String
    let run: @Sendable (Data) -> Void
}

enum FuzzTargets {
    static let all: [FuzzTarget] = [safetensors, ctranslate2, manifest, blob, ociManifest, audio]

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// A safetensors file: 8-byte header length, JSON header, tensor bytes (imported adapters).
    static let safetensors = FuzzTarget(name: "safetensors", summary: "safetensors header and tensor table (import-peft, base import)") { data in
        guard let file = try? SafeTensors.decode(data) else { return }
        // Touch every tensor the header promised, as import does.
        for (_, t) in file.tensors { _ = t.firstNonFinite }
    }

    /// A CTranslate2 `model.bin`, read through the same loader as `base import` with a
    /// fixed valid config.json and tokenizer.json beside it.
    static let ctranslate2 = FuzzTarget(name: "ct2", summary: "CTranslate2 model.bin reader (base import of a CT2 folder)") { data in
        let folder = Scratch.folder
        let model = folder.appendingPathComponent("model.bin")
        guard (try? data.write(to: model)) != nil else { fatalError("cannot write \(model.path)") }
        _ = try? CTranslate2Whisper.load(folder: folder)
    }

    /// A Glossa manifest (the JSON config of every stored or pulled artifact).
    static let manifest = FuzzTarget(name: "manifest", summary: "Glossa manifest decoding (catalog, pull, bundles)") { data in
        guard let m = try? ManifestCoding.decode(from: data) else { return }
        // Whatever decodes must re-encode canonically.
        _ = try? ManifestCoding.canonicalBytes(m)
    }

    /// A blob frame (header, then zstd or rANS-coded byte planes) as pulled from a remote,
    /// with the untrusted-source limits a pull uses. `maxLength` stays below libFuzzer's
    /// default 2 GiB RSS limit so a refused bomb is not reported as an out-of-memory.
    static let blob = FuzzTarget(name: "blob", summary: "blob frame and rANS/zstd decoding (pull, bundle load)") { data in
        let frame = [UInt8](data)
        var limits = BlobDecodeLimits.untrusted(expectedLength: nil)
        limits.maxLength = 256 << 20
        // As received (the checksums must refuse damage), then resealed so that the
        // mutation reaches the zstd and rANS decoders behind the checksums.
        _ = try? BlobCodec.decode(frame, limits: limits)
        _ = try? BlobCodec.decode(BlobCodec.resealed(frame), limits: limits)
    }

    /// An OCI image manifest, or the image index a referrers query or tag answers with, as
    /// a remote registry serves them.
    static let ociManifest = FuzzTarget(name: "oci-manifest", summary: "OCI image manifest and referrers index parsing (pull from a remote registry)") { data in
        if let index = try? JSONDecoder().decode(OCIImageIndex.self, from: data) { _ = try? JSONEncoder().encode(index) }
        guard let m = try? JSONDecoder().decode(OCIImageManifest.self, from: data) else { return }
        _ = m.effectiveArtifactType
        _ = try? JSONEncoder().encode(m)
    }

    /// An audio file of any format libsndfile recognises (WAV, FLAC, ...), read and
    /// resampled to 16 kHz mono as `transcribe` does.
    static let audio = FuzzTarget(name: "audio", summary: "WAV/FLAC reading through libsndfile and soxr (transcribe, eval)") { data in
        let file = Scratch.folder.appendingPathComponent("input.audio")
        guard (try? data.write(to: file)) != nil else { fatalError("cannot write \(file.path)") }
        _ = try? AudioReader.load(path: file.path)
    }
}

/// A per-process scratch folder for targets whose parser reads a path. It holds a minimal
/// valid config.json and tokenizer.json so the CT2 target reaches the model.bin parser.
enum Scratch {
    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-fuzz-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try Data(#"{"suppress_ids": [], "suppress_ids_begin": [], "lang_ids": [50259], "alignment_heads": []}"#.utf8)
                .write(to: url.appendingPathComponent("config.json"))
            try Data(#"{"model": {"vocab": {}}, "added_tokens": []}"#.utf8)
                .write(to: url.appendingPathComponent("tokenizer.json"))
        } catch { fatalError("cannot prepare \(url.path): \(error)") }
        return url
    }()
}

import Foundation
import GlossaCore
import Store
import TensorIO

extension Registry {
    /// Imports a PEFT adapter folder as an expert for `languages` (one code; several make a
    /// multilingual "mul" adapter) on `base` (a REF; nil: the registry's only base). The adapter
    /// is checked against the base's shapes first; on any mismatch nothing is written.
    public func importPEFT(folder: URL, languages: [String], name: String, version: String, base: String?,
                           license: String?, description: String) throws(GlossaError) -> (Digest, ExpertManifest) {
        let fields = ExpertManifest.languageFields(covering: languages)
        guard !languages.isEmpty else { throw GlossaError(.invalidInput, "No language given; pass --lang (e.g. fr, or de,fr for a multilingual adapter)") }
        let adapter: PEFTAdapter
        do { adapter = try PEFTAdapter.load(folder: folder) } catch { throw Self.wrap(error, "Cannot read PEFT adapter \(folder.path)") }
        let baseDigest: Digest
        if let base { baseDigest = try resolve(base) } else { baseDigest = try defaultBase() }
        guard case .base(let baseManifest) = try manifest(baseDigest) else {
            throw GlossaError(.invalidInput, "--base \(base ?? baseDigest.description) is not a base model")
        }
        // Shapes only: the base's tensor table has every shape, no need to load weights.
        do { try adapter.weights.validate(against: baseManifest.config) } catch {
            throw Self.wrap(error, "Adapter \(folder.path) does not fit base \(baseManifest.name):\(baseManifest.version)")
        }
        for (module, pair) in adapter.weights.modules.sorted(by: { $0.key < $1.key }) {
            guard let w = baseManifest.tensors[module + ".weight"] else {
                throw GlossaError(.invalidInput, "Adapter \(folder.path) targets \(module), which base \(baseManifest.name) does not have")
            }
            let (out, inp) = (w.shape[0], w.shape.count > 1 ? w.shape[1] : 1)
            if pair.a.shape[1] != inp || pair.b.shape[0] != out {
                throw GlossaError(.invalidInput, "Adapter \(folder.path): \(module) has lora_A \(pair.a.shape) and lora_B \(pair.b.shape) but the base weight is [\(out), \(inp)] (expected A [r, \(inp)], B [\(out), r])")
            }
        }
        let configBytes: [UInt8]
        do { configBytes = Array(try Data(contentsOf: folder.appendingPathComponent(PEFTAdapter.configFile))) } catch {
            throw GlossaError(.invalidInput, "Cannot read \(folder.path)/\(PEFTAdapter.configFile)")
        }
        // Everything is checked before anything is written (a refused import leaves no
        // blobs): the manifest is built with the digests of the bytes about to be stored
        // (the store names blobs by exactly these) and validated, and name:version must be free.
        let tensors = adapter.weights.modules.mapValues { p in
            LoRATensorEntry(a: TensorEntry(digest: Digest(of: p.a.bytes), dtype: p.a.dtype, shape: p.a.shape),
                            b: TensorEntry(digest: Digest(of: p.b.bytes), dtype: p.b.dtype, shape: p.b.shape))
        }
        var hyper: [String: ScalarValue] = ["source": .string("peft")]
        if let p = adapter.baseModelNameOrPath { hyper["base_model_name_or_path"] = .string(p) }
        let m = ExpertManifest(
            name: name, version: version, language: fields.language, base: baseDigest, lora: adapter.weights.config,
            tensors: tensors,
            provenance: Provenance(hyperparameters: hyper, toolVersion: GlossaVersion.tool, created: Self.now()),
            license: license ?? Self.declaredLicense(folder) ?? "NOASSERTION", description: description,
            adapterConfig: Digest(of: configBytes), languages: fields.languages, baseWeights: baseManifest.weightsDigest)
        do { try m.validate() } catch { throw GlossaError(.invalidInput, "Cannot publish expert \(name):\(version): \(error)") }
        do {
            try store.checkVersionFree(name: name, version: version)
            for pair in adapter.weights.modules.values {
                _ = try store.putTensor(pair.a)
                _ = try store.putTensor(pair.b)
            }
            _ = try store.putBlob(configBytes)
            return (try store.publish(m), m)
        } catch {
            throw Self.wrap(error, "Cannot publish expert \(name):\(version)")
        }
    }

    /// The `license:` field of a model card's YAML front matter (`README.md` starting with
    /// `---`), as the Hugging Face Hub writes adapter cards; nil when there is none.
    static func declaredLicense(_ folder: URL) -> String? {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.first == "---" else { return nil }
        for line in lines.dropFirst() {
            if line == "---" { break }
            if line.hasPrefix("license:") {
                let v = line.dropFirst("license:".count).trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
                return v.isEmpty ? nil : v
            }
        }
        return nil
    }

    /// The expert `ref` with its weights (digests re-checked) and manifest.
    public func loadExpert(_ ref: String) throws(GlossaError) -> (ExpertManifest, LoRAWeights, Digest) {
        let d = try resolve(ref)
        guard case .expert(let m) = try manifest(d) else {
            throw GlossaError(.invalidInput, "'\(ref)' is not an expert")
        }
        let (_, order) = try storedAdapterConfig(m)
        do { return (m, try loraWeights(m.lora, m.tensors, patternOrder: order), d) } catch {
            throw Self.wrap(error, "Cannot load expert \(m.name):\(m.version)")
        }
    }

    /// Writes expert `ref` as a PEFT adapter folder: tensors bit-identical to what was
    /// imported, `adapter_config.json` with the original's other fields. A composite that is
    /// one plain LoRA (no per-language routes) exports too.
    public func exportPEFT(_ ref: String, to folder: URL) throws(GlossaError) {
        let adapter: PEFTAdapter
        if case .composite(let m) = try manifest(try resolve(ref)) {
            guard m.routes.isEmpty, let lora = m.lora, !m.tensors.isEmpty else {
                throw GlossaError(.invalidInput, "\(m.name):\(m.version) is routed by language (a shared part and \(m.routes.count) residuals), not one LoRA; PEFT holds one adapter: export the bundle with `glossa export` instead")
            }
            do { adapter = PEFTAdapter(weights: try loraWeights(lora, m.tensors), rawConfig: [:], patternOrder: []) } catch {
                throw Self.wrap(error, "Cannot load composite \(m.name):\(m.version)")
            }
        } else {
            let (m, weights, _) = try loadExpert(ref)
            let (raw, order) = try storedAdapterConfig(m)
            adapter = PEFTAdapter(weights: weights, rawConfig: raw, patternOrder: order)
        }
        do { try adapter.write(to: folder) } catch { throw Self.wrap(error, "Cannot export \(ref) to \(folder.path)") }
    }

    /// The original adapter_config.json fields and pattern order of an imported expert
    /// (empty for experts made in Glossa).
    func storedAdapterConfig(_ m: ExpertManifest) throws(GlossaError) -> (raw: [String: JSONValue], order: [String]) {
        guard let c = m.adapterConfig else { return ([:], []) }
        let bytes: [UInt8]
        do { bytes = try store.blob(c) } catch { throw Self.wrap(error, "Cannot read the adapter config of \(m.name):\(m.version)") }
        do {
            let parsed = try PEFTAdapter.parseStoredConfig(bytes, source: "\(m.name):\(m.version) adapter_config")
            return (parsed.raw, parsed.patternOrder)
        } catch { throw Self.wrap(error, "Stored adapter config of \(m.name):\(m.version) is unreadable") }
    }
}

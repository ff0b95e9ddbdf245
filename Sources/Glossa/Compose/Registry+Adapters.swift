import Foundation
import GlossaCore
import Store
import TensorIO

/// Loading what `--expert REF` may name: an expert, or a composite (one plain LoRA, or a
/// shared part plus per-language residuals routed by language).
extension Registry {
    /// The adapters `ref` stands for, as the router takes them, with the base they adapt
    /// here (`attachedBase`).
    public func loadAdapters(_ ref: String) throws(GlossaError) -> (adapters: [LoadedExpert], base: Digest) {
        let d = try resolve(ref)
        switch try manifest(d) {
        case .expert:
            let (m, w, _) = try loadExpert(ref)
            return ([LoadedExpert(name: "\(m.name):\(m.version)", language: m.language, languages: m.coveredLanguages,
                                  id: d.description, weights: w)], try attachedBase(of: d))
        case .composite(let m):
            return (try compositeAdapters(m, digest: d), try attachedBase(of: d))
        case let other:
            throw GlossaError(.invalidInput, "'\(ref)' is a \(other.kind.rawValue), not an expert or composite; give an expert or composite REF")
        }
    }

    /// A composite's adapters: its own tensors (always applied when it routes, else a plain
    /// LoRA serving its languages) and one residual per routed language.
    func compositeAdapters(_ m: CompositeManifest, digest: Digest) throws(GlossaError) -> [LoadedExpert] {
        let label = "\(m.name):\(m.version)"
        var out: [LoadedExpert] = []
        do {
            if let lora = m.lora, !m.tensors.isEmpty {
                let w = try loraWeights(lora, m.tensors)
                let lang = m.languages.count == 1 ? m.languages[0] : WhisperLanguage.multiple
                out.append(LoadedExpert(name: m.routes.isEmpty ? label : label + "/shared", language: lang, languages: m.languages,
                                        id: digest.description, weights: w, role: m.routes.isEmpty ? .expert : .shared))
            }
            for (l, r) in m.routes.sorted(by: { $0.key < $1.key }) {
                out.append(LoadedExpert(name: "\(label)/\(l)", language: l, id: digest.description,
                                        weights: try loraWeights(r.lora, r.tensors), role: .languageResidual))
            }
        } catch { throw Self.wrap(error, "Cannot load composite \(label)") }
        return out
    }

    /// Reads LoRA factors from the store (digests re-checked), scales resolved per module.
    func loraWeights(_ config: LoRAConfig, _ tensors: [String: LoRATensorEntry], patternOrder: [String] = []) throws(StoreError) -> LoRAWeights {
        var modules: [String: LoRAPair] = [:]
        for (module, e) in tensors {
            let r = config.resolved(forModule: module, patternOrder: patternOrder)
            modules[module] = LoRAPair(a: try store.tensor(e.a), b: try store.tensor(e.b), scale: r.scale)
        }
        return LoRAWeights(config: config, modules: modules)
    }

    /// Stores LoRA factors and returns their manifest entries.
    func putLoRA(_ w: LoRAWeights) throws(StoreError) -> [String: LoRATensorEntry] {
        var entries: [String: LoRATensorEntry] = [:]
        for (module, p) in w.modules.sorted(by: { $0.key < $1.key }) {
            entries[module] = LoRATensorEntry(a: try store.putTensor(p.a), b: try store.putTensor(p.b))
        }
        return entries
    }
}

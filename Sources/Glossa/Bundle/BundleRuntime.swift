import Foundation
import GlossaCore
import TensorIO

/// A bundle turned into what the runtime needs: the base checkpoint (tensors mapped from
/// the bundle, digests checked), the adapters as `LoadedExpert`s and the routing mode.
/// Built with the same scales, roles, names and mixing weight (1) as `Registry.loadAdapters`,
/// so a bundle decodes exactly like the same base + adapters loaded from the registry.
public struct LoadedBundle: Sendable {
    public let reader: BundleReader
    public let checkpoint: WhisperCheckpoint
    public let experts: [LoadedExpert]
    public let routing: Routing

    /// Opens and loads the bundle at `path`. With `key`, the signature must verify first.
    public init(path: String, key: MinisignPublicKey? = nil) throws(GlossaError) {
        let context = "Cannot load bundle \(path)"
        do {
            reader = try BundleReader(path: path)
            if let key { try reader.verifySignature(key) }
            let m = reader.manifest
            var tensors: [String: TensorData] = [:]
            for (n, e) in m.model.tensors { tensors[n] = try reader.tensor(e) }
            let tokenizer = Array(try reader.blob(m.model.tokenizer))
            checkpoint = WhisperCheckpoint(config: m.model.config, tensors: tensors, tokenizerJSON: tokenizer)
            var experts: [LoadedExpert] = []
            for a in m.adapters {
                var modules: [String: LoRAPair] = [:]
                for (module, t) in a.tensors {
                    modules[module] = LoRAPair(a: try reader.tensor(t.a), b: try reader.tensor(t.b), scale: a.scales[module] ?? 1)
                }
                let weights = LoRAWeights(config: a.lora, modules: modules)
                let language = a.languages.count == 1 ? a.languages[0] : WhisperLanguage.multiple
                let role: LoadedExpert.Role = a.role == "shared" ? .shared : a.role == "residual" ? .languageResidual : .expert
                experts.append(LoadedExpert(name: a.label, language: language, languages: a.languages,
                                            id: a.digest.description, weights: weights, role: role))
            }
            self.experts = experts
            guard let r = Routing(rawValue: m.routing.mode) else {
                throw BundleError.invalidManifest(path: path, reason: "routing mode '\(m.routing.mode)' is unknown to this glossa")
            }
            routing = r
        } catch let e as BundleError {
            throw e.glossa(context)
        } catch {
            throw GlossaError(.failure, "\(context): \(error)")
        }
        for e in experts {
            do { try e.weights.validate(against: checkpoint) } catch {
                throw GlossaError(.invalidInput, "\(context): adapter \(e.name) does not fit the bundle's base: \(error)")
            }
        }
    }

    /// Printable origin for reports: `bundle <path> (<manifest digest>)`.
    public var origin: String { "bundle \(reader.path) (\(reader.manifestDigest.short))" }
}

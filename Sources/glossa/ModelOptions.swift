import ArgumentParser
import Foundation
import Glossa

/// `--model REF|DIR|BUNDLE` and `--expert REF` (repeatable), `--route`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("""
        Base model: a registry REF (e.g. whisper-base), a model folder (CTranslate2 or Hugging Face), or a \
        bundle folder or .tar from `glossa export` (base, experts and routing; no registry needed). \
        A bare name is a registry REF; a folder or file of that name is used only when the registry has none, \
        so write a folder as a path (./whisper-base, models/whisper-base-ct2, out/fr.tar).
        """, valueName: "REF|DIR|BUNDLE"))
    var model: String

    @Option(name: .long, help: ArgumentHelp("LoRA expert or composite: a registry REF or a PEFT adapter folder. Repeatable.", valueName: "REF|DIR"))
    var expert: [String] = []

    @Option(name: .long, help: ArgumentHelp("""
        How experts apply: all (every expert on every utterance), language (the utterance's given or detected \
        language picks its expert) or soft (language given: as language; detected: the experts of the base's \
        top-3 languages mixed by their probabilities). A composite made by `compose --method shared` always \
        routes its residuals by language. Default: all, or a bundle's own routing.
        """, valueName: "all|language|soft"))
    var route: Routing?

    @Option(name: .long, help: ArgumentHelp("With a bundle: refuse it unless its signature verifies with this public key.", valueName: "PUB"))
    var verifyKey: String?

    @OptionGroup var registry: RegistryOptions

    struct Loaded {
        var speech: SpeechModel
        var router: ExpertRouter
        var modelID: String
        /// Registry digest of the base (nil for folders).
        var modelDigest: String?
    }

    func load(compute: ComputeBackend) throws -> Loaded {
        if ModelSourceResolver(registryPath: registry.path).isBundle(model) { return try loadBundle(compute: compute) }
        if verifyKey != nil { throw CLIError(GlossaError(.invalidInput, "--verify-key applies to bundles; \(model) is not a bundle folder or .tar")) }
        let (checkpoint, origin) = try ModelSourceResolver(registryPath: registry.path).checkpoint(model)
        let speech = try SpeechModel(checkpoint: checkpoint, compute: compute, origin: origin)
        let experts = try expert.flatMap { try ModelSourceResolver(registryPath: registry.path).experts($0, base: checkpoint, baseOrigin: origin) }
        let router = try ExpertRouter(experts: experts, routing: route ?? .all, model: speech.model)
        return Loaded(speech: speech, router: router, modelID: origin, modelDigest: origin.hasPrefix("sha256:") ? origin : nil)
    }

    /// A bundle carries its experts and routing: --expert is refused, --route must agree.
    private func loadBundle(compute: ComputeBackend) throws -> Loaded {
        if !expert.isEmpty {
            throw CLIError(GlossaError(.invalidInput, "\(model) is a bundle and carries its own experts; drop --expert, or export a bundle with them"))
        }
        let key = try verifyKey.map { try Signing.publicKey($0) }
        let bundle = try LoadedBundle(path: model, key: key)
        if let route, route != bundle.routing {
            throw CLIError(GlossaError(.invalidInput, "bundle \(model) routes by \(bundle.routing.rawValue), not \(route.rawValue); drop --route or re-export with --route \(route.rawValue)"))
        }
        let speech = try SpeechModel(checkpoint: bundle.checkpoint, compute: compute, origin: bundle.origin)
        let router = try ExpertRouter(experts: bundle.experts, routing: bundle.routing, model: speech.model)
        return Loaded(speech: speech, router: router, modelID: bundle.origin, modelDigest: bundle.reader.manifestDigest.description)
    }
}

extension Routing: ExpressibleByArgument {}

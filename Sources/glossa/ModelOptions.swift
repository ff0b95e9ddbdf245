import ArgumentParser
import Foundation
import Glossa
import Tensor

/// `--model REF|DIR` and `--expert REF` (repeatable), `--route`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("""
        Base model: a registry REF (e.g. whisper-base) or a model folder (CTranslate2 or Hugging Face). \
        A bare name is a registry REF; a folder of that name is used only when the registry has none, \
        so write a folder as a path (./whisper-base, models/whisper-base-ct2).
        """, valueName: "REF|DIR"))
    var model: String

    @Option(name: .long, help: ArgumentHelp("LoRA expert or composite: a registry REF or a PEFT adapter folder. Repeatable.", valueName: "REF|DIR"))
    var expert: [String] = []

    @Option(name: .long, help: ArgumentHelp("""
        How experts apply: all (every expert on every utterance), language (the utterance's given or detected \
        language picks its expert) or soft (language given: as language; detected: the experts of the base's \
        top-3 languages mixed by their probabilities). A composite made by `compose --method shared` always \
        routes its residuals by language.
        """, valueName: "all|language|soft"))
    var route: Routing = .all

    @OptionGroup var registry: RegistryOptions

    struct Loaded {
        var speech: SpeechModel
        var router: ExpertRouter
        var modelID: String
        /// Registry digest of the base (nil for folders).
        var modelDigest: String?
    }

    func load(compute: Compute) throws -> Loaded {
        let (checkpoint, origin) = try ModelSourceResolver(registryPath: registry.path).checkpoint(model)
        let speech = try SpeechModel(checkpoint: checkpoint, compute: compute, origin: origin)
        let experts = try expert.flatMap { try ModelSourceResolver(registryPath: registry.path).experts($0, base: checkpoint, baseOrigin: origin) }
        let router = try ExpertRouter(experts: experts, routing: route, model: speech.model)
        return Loaded(speech: speech, router: router, modelID: origin, modelDigest: origin.hasPrefix("sha256:") ? origin : nil)
    }
}

extension Routing: ExpressibleByArgument {}

import ArgumentParser
import Foundation
import Glossa
import GlossaCore

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export experts (or composites) with their base as a deployable, verifiable bundle.",
        discussion: """
        Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) at PATH, or one .tar of it when PATH ends in \
        .tar. The bundle holds the bundle manifest, the base weights as raw little-endian tensors (f16 by default; the runtime \
        maps them), the adapters unmerged (bit-identical to the registry's) with the routing table, and the tokenizer; it runs \
        with no registry: `glossa transcribe --model PATH`.

        The output is built beside PATH and renamed into place: on any error nothing is left, and an existing PATH is refused \
        unless --force.

        --format hf writes the base with one adapter merged in (W += s*B*A) as a Hugging Face Whisper folder (config.json, \
        generation_config.json, model.safetensors, tokenizer.json) that transformers and any Whisper runtime load, at zero \
        adapter cost; --format ct2 writes the same merged model as a CTranslate2 Whisper folder (model.bin, config.json, \
        vocabulary.json, tokenizer.json, preprocessor_config.json) that faster-whisper loads with WhisperModel(PATH). \
        --dtype sets their weights' type. --format peft writes one adapter (an expert, or a composite that is one plain \
        LoRA) as a PEFT folder (adapter_config.json + adapter_model.safetensors) that Python peft loads. A routed set \
        (several adapters, or a composite with per-language residuals) is refused by hf, ct2 and peft, since each holds \
        one adapter or one merged model.

        REF is an expert or composite; or give --model BASE with --expert REF (repeatable). --route language (default) lets \
        the utterance's language pick its adapter; --route all applies every adapter to every utterance.

        Examples:
          glossa export fr-expert --out out/fr-bundle
          glossa export --model whisper-base --expert fr-expert \\
                        --expert de-expert --out out/de-fr.tar
          glossa export --expert fr-expert --expert de-expert --languages fr \\
                        --dtype f32 --out out/fr
          glossa export fr-expert --out out/fr-bundle --sign release.key --force
          glossa export mix --format peft --out out/mix-peft
          glossa export student --format hf --dtype f32 --out out/student-hf
          glossa export --model whisper-base --expert fr-expert --format ct2 \\
                        --out out/fr-ct2
        """)

    @Argument(help: ArgumentHelp("Expert or composite REF (or use --expert).", valueName: "REF")) var ref: String?
    @Option(name: .long, help: ArgumentHelp("Base model REF. Default: the base the experts were made for.", valueName: "BASE")) var model: String?
    @Option(name: .long, help: ArgumentHelp("Expert or composite REF. Repeatable.", valueName: "REF")) var expert: [String] = []
    @Option(name: .long, help: ArgumentHelp(
        "How adapters apply: language (the utterance's language picks one), soft (detected language: the top-3 languages' adapters mixed by probability) or all (every adapter always). A routed composite's residuals always route by language.",
        valueName: "language|soft|all"))
    var route: Routing = .language
    @Option(name: .long, help: ArgumentHelp("Output folder, or a .tar file.", valueName: "PATH")) var out: String
    @Option(name: .long, help: """
        oci (a bundle: OCI image layout), hf or ct2 (one adapter merged into the base, as a Hugging Face \
        or CTranslate2 folder) or peft (one adapter as a PEFT folder).
        """)
    var format: BundleFormat = .oci
    @Option(name: .long, help: "Element type of the base weights: f16 (half the size) or f32.") var dtype: WeightType = .f16
    @Option(name: .long, help: ArgumentHelp("Only these languages, comma-separated (e.g. de,fr).", valueName: "CODES")) var languages: String?
    @Option(name: .long, help: "Bundle name. Default: <base>-<languages>.") var name: String?
    @Option(name: .long, help: "Bundle version (semantic).") var version = "1.0.0"
    @Option(name: .long, help: "Free-text description.") var description = ""
    @Option(name: .long, help: ArgumentHelp("Sign the bundle manifest with this secret key (see `glossa key generate`).", valueName: "KEYFILE"))
    var sign: String?
    @Flag(name: .long, help: "Replace an existing PATH.") var force = false
    @Flag(name: .long, help: "Print the result as JSON.") var json = false
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var runtime: RuntimeOptions

    enum BundleFormat: String, ExpressibleByArgument, CaseIterable { case oci, hf, ct2, peft }
    enum WeightType: String, ExpressibleByArgument, CaseIterable {
        case f16, f32
        var dtype: DType { self == .f16 ? .f16 : .f32 }
    }

    func validate() throws {
        if ref == nil && expert.isEmpty { throw ValidationError("Name an expert or composite (REF), or give --expert REF.") }
    }

    func run() throws {
        try reporting {
            if format == .peft { return try exportPEFT() }
            if format == .hf { return try exportMerged(.hf) }
            if format == .ct2 { return try exportMerged(.ct2) }
            let key = try sign.map { try Signing.secretKey($0) }
            let langs = languages.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            let request = BundleExportRequest(adapters: (ref.map { [$0] } ?? []) + expert, base: model, routing: route, dtype: dtype.dtype,
                                              languages: langs, name: name, version: version, description: description, force: force,
                                              signingKey: key)
            let bar = ProgressBar(total: 1, label: "export")
            let r = try Registry(root: registry.path).exportBundle(request, to: out) { bar.updateTotal($0, $1) }
            bar.finish()
            if json { try Console(json: true).emit(r); return }
            print("\(r.path)\t\(r.name):\(r.version)\t[\(r.languages.joined(separator: ","))]\trouting \(r.routing)\t"
                  + "\(r.bytes / 1_000_000) MB\t\(r.digest)" + (r.signedBy.map { "\tsigned by \($0)" } ?? ""))
        }
    }

    /// `--format peft`: one plain LoRA, written beside PATH and renamed into place.
    func exportPEFT() throws {
        let refs = (ref.map { [$0] } ?? []) + expert
        guard refs.count == 1 else {
            throw GlossaError(.invalidInput, "--format peft writes one adapter, but \(refs.count) were given (\(refs.joined(separator: ", "))); compose them first (glossa compose) or export a bundle (--format oci)")
        }
        if sign != nil || languages != nil {
            throw GlossaError(.invalidInput, "--sign and --languages apply to bundles (--format oci), not to a PEFT folder")
        }
        try Registry(root: registry.path).exportPEFT(refs[0], to: out, force: force)
        if json { try Console(json: true).emit(["path": out, "format": "peft", "ref": refs[0]]) } else { print(out) }
    }

    /// `--format hf|ct2`: one plain adapter merged into its base (`--model`, when given, must be that base).
    func exportMerged(_ merged: MergedFormat) throws {
        let refs = (ref.map { [$0] } ?? []) + expert
        guard refs.count == 1 else {
            throw GlossaError(.invalidInput, "--format \(merged.rawValue) merges one adapter, but \(refs.count) were given "
                              + "(\(refs.joined(separator: ", "))); compose them first (glossa compose) or export a bundle (--format oci)")
        }
        if sign != nil || languages != nil {
            throw GlossaError(.invalidInput, "--sign and --languages apply to bundles (--format oci), not to a merged folder")
        }
        try Registry(root: registry.path).exportMerged(refs[0], base: model, format: merged, to: out, dtype: dtype.dtype, force: force,
                                                       compute: try runtime.compute())
        if json { try Console(json: true).emit(["path": out, "format": merged.rawValue, "ref": refs[0]]) } else { print(out) }
    }
}

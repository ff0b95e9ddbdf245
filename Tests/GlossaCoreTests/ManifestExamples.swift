import Foundation
@testable import GlossaCore

/// Small valid manifests of every kind, shared by the manifest tests.
enum ManifestExamples {
    static func d(_ c: Character) -> Digest { try! Digest(parsing: "sha256:" + String(repeating: c, count: 64)) }
    static let created = "2026-11-28T02:00:00Z"

    static let whisperTiny = WhisperConfig(numMelBins: 80, dModel: 8, encoderLayers: 1, encoderAttentionHeads: 2, encoderFFNDim: 16,
                                           decoderLayers: 1, decoderAttentionHeads: 2, decoderFFNDim: 16, vocabSize: 51865,
                                           maxSourcePositions: 1500, maxTargetPositions: 448, suppressTokens: [1, 2], beginSuppressTokens: [220, 50257])

    static let base = BaseManifest(
        name: "whisper-tiny-test", version: "1.0.0", config: whisperTiny,
        tensors: ["model.encoder.conv1.weight": TensorEntry(digest: d("1"), dtype: .f16, shape: [8, 80, 3]),
                  "model.decoder.embed_tokens.weight": TensorEntry(digest: d("2"), dtype: .f16, shape: [51865, 8])],
        tokenizer: d("3"), source: .init(format: "ctranslate2", digest: d("4")), created: created)

    static let pair = LoRATensorEntry(a: TensorEntry(digest: d("5"), dtype: .f32, shape: [4, 8]),
                                      b: TensorEntry(digest: d("6"), dtype: .f32, shape: [8, 4]))

    static let expert = ExpertManifest(
        name: "de-base", version: "1.2.0-rc.1", language: "de", base: d("a"),
        lora: LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj", "v_proj"], rankPattern: ["fc1": 8], alphaPattern: [:], useRSLoRA: true),
        tensors: ["model.decoder.layers.0.self_attn.q_proj": pair],
        provenance: Provenance(dataDigest: d("7"), hyperparameters: ["lr": .number(1e-4), "epochs": .number(3), "optimizer": .string("adamw"), "bf16": .bool(false)],
                               toolVersion: "glossa 0.1.0", created: created),
        metrics: ["wer": 0.21], license: "MIT", description: "German expert", parents: [d("b")])

    /// The standard multilingual LoRA baseline: one adapter over several languages.
    static let multilingual = ExpertManifest(
        name: "multi-espeak", version: "1.0.0", language: "mul", base: d("a"),
        lora: LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj"]),
        tensors: ["model.decoder.layers.0.self_attn.q_proj": pair],
        provenance: Provenance(dataDigest: d("7"), hyperparameters: ["steps": .number(248)], toolVersion: "glossa 0.1.0", created: created),
        license: "MIT", languages: ["de", "fr", "nl", "pl"])

    static let composite = CompositeManifest(
        name: "de-fr-linear", version: "0.1.0", languages: ["de", "fr"], base: d("a"),
        recipe: .init(method: "linear", params: ["weights": .string("0.5,0.5"), "target_rank": .number(8)], seed: 42),
        inputs: [d("c"), d("e")], lora: LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj"]),
        tensors: ["model.decoder.layers.0.self_attn.q_proj": pair],
        provenance: Provenance(toolVersion: "glossa 0.1.0", created: created))

    /// A routed bundle: the base's weights plus a German expert and a German+French composite.
    static let bundle = BundleManifest(
        name: "de-fr-bundle", version: "1.0.0", languages: ["de", "fr"], base: d("a"),
        model: .init(config: whisperTiny, tensors: ["model.encoder.conv1.weight": TensorEntry(digest: d("1"), dtype: .f16, shape: [8, 80, 3])],
                     tokenizer: d("3")),
        adapters: [
            .init(digest: d("c"), kind: .expert, name: "de-base", version: "1.2.0", languages: ["de"],
                  lora: LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj"]),
                  scales: ["model.decoder.layers.0.self_attn.q_proj": 2], tensors: ["model.decoder.layers.0.self_attn.q_proj": pair],
                  lineage: [ArtifactEdge(relation: "base", target: d("a"))]),
            .init(digest: d("e"), kind: .composite, name: "de-fr-linear", version: "0.1.0", languages: ["de", "fr"],
                  lora: LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj"]),
                  scales: ["model.decoder.layers.0.self_attn.q_proj": 2], tensors: ["model.decoder.layers.0.self_attn.q_proj": pair],
                  lineage: [ArtifactEdge(relation: "base", target: d("a")), ArtifactEdge(relation: "input", target: d("c"))], recipe: "linear"),
        ],
        routing: .init(mode: "language", languages: ["de": d("c"), "fr": d("e")]),
        files: ["README.md": .init(digest: d("8"), size: 120, mediaType: "text/markdown")], created: created)

    static let evalReport = EvalReportManifest(subject: d("c"), report: d("9"), dataset: d("f"),
                                               summary: ["wer.de": 0.2, "rtf": 0.05], created: created, toolVersion: "glossa 0.1.0")

    /// Written since bases are pinned by content: a base without an import time, and an
    /// expert and a composite that record their base's weights digest.
    static var deterministicBase: BaseManifest { var b = base; b.created = nil; return b }
    static var pinnedExpert: ExpertManifest { var e = expert; e.baseWeights = base.weightsDigest; return e }
    static var pinnedComposite: CompositeManifest { var c = composite; c.baseWeights = base.weightsDigest; return c }
    static let all: [AnyManifest] = [.base(base), .expert(expert), .expert(multilingual), .composite(composite), .bundle(bundle), .evalReport(evalReport),
                                     .base(deterministicBase), .expert(pinnedExpert), .composite(pinnedComposite)]

    /// Schema file for a kind (the eval-report *manifest* schema is separate from the
    /// eval report blob's schema).
    static func schemaFile(_ kind: ManifestKind) -> String {
        kind == .evalReport ? "eval-report-manifest.schema.json" : "\(kind.rawValue).schema.json"
    }
}

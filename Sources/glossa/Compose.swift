import ArgumentParser
import Foundation
import Glossa
import GlossaCore

struct ComposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose",
        abstract: "Compose language experts into one multilingual adapter and publish it as a composite.",
        discussion: """
        Every method works on the experts' weight deltas dW = s * B * A (never on A and B separately, which is not a weighted \
        sum of deltas). --weights defaults to 1/E for each of the E experts (an average); a module that some experts do not \
        adapt counts as a zero delta for them.

        Methods:
          cat      exact: the factors stacked, weights folded in; rank = sum of the
                   ranks
          linear   weighted sum of the deltas, truncated by SVD to --rank; the manifest
                   records each module's relative truncation error
          ties     each delta trimmed to --density by magnitude, signs elected,
                   disjoint weighted mean; truncated by SVD to --rank
          dare     entries dropped with probability 1 - --density (seeded by --seed)
                   and rescaled, then summed; truncated by SVD to --rank
          shared   one shared LoRA (rank --rank, the truncated mean of the deltas) that
                   always applies, plus one residual per language, routed by the given
                   or detected language at run time
          learned  per-expert fusion weights (per --granularity: expert, layer or
                   module) trained on --manifest with the base and experts frozen; the
                   result is the cat of the experts with the learned weights folded in
          distill  a student LoRA of rank --rank, initialised from linear, trained on
                   --manifest so that its token distributions match those of each
                   utterance's language expert: T^2 KL(teacher_T || student_T) + lambda
                   CE (--temperature T, --ce-weight lambda); lines with empty "text"
                   are labelled by their teacher first; the language token is trained
                   too, so the student also detects languages (language-agnostic use)

        learned and distill train on the utterances of --manifest (JSONL, as `glossa corpus synth` writes it), whose languages \
        must all be served by the experts. A run that diverges (NaN or infinite loss) stops with an error and publishes \
        nothing.

        --languages de,fr,nl picks, for each language, the expert tagged `stable`, else the one with the best recorded dev WER \
        on the base, and says which it picked.

        The composite records its recipe, seed and inputs' digests; `glossa show` prints them. Composing the same experts with \
        the same recipe again gives the same digest; re-running a command whose NAME:VERSION already holds that composite \
        computes nothing and exits 0. Use it wherever an expert goes: `--expert NAME` in transcribe and eval, push, pull, \
        show, and `expert export-peft` when it is one plain LoRA.

        Examples:
          glossa compose --experts de-espeak,fr-espeak,nl-espeak --method linear \\
            --rank 16 --name mix --version 1.0.0
          glossa compose --languages de,fr,nl,pl --method ties --density 0.5 \\
            --name mix-ties --version 1.0.0
          glossa compose --languages de,fr --method shared --name split --version 1.0.0
          glossa eval --model whisper-base --expert mix --manifest data/test.jsonl \\
            --language-agnostic
        """)

    @Option(name: .long, help: ArgumentHelp("Experts to compose, comma-separated REFs.", valueName: "REF,REF,..."))
    var experts: String?
    @Option(name: .long, help: ArgumentHelp("Instead of --experts: one expert per language, picked from the registry.", valueName: "de,fr,..."))
    var languages: String?
    @Option(name: .long, help: ArgumentHelp("Base REF for --languages. Default: the registry's only base.", valueName: "REF"))
    var base: String?
    @Option(name: .long, help: "cat, linear, ties, dare, shared, learned or distill.")
    var method: CompositionMethod
    @Option(name: .long, help: ArgumentHelp("One weight per expert, comma-separated, in --experts order. Default: 1/E each.", valueName: "w1,w2,..."))
    var weights: String?
    @Option(name: .long, help: "Target rank of linear, ties and dare, and of shared's shared part. Default: the largest expert rank.")
    var rank: Int?
    @Option(name: .long, help: "Fraction of entries kept by ties and dare, in (0, 1].")
    var density = 0.5
    @Option(name: .long, help: "Seed of dare's drop masks and of learned/distill's data order.")
    var seed: UInt64 = 0
    @Option(name: .long, help: ArgumentHelp("learned/distill: training utterances (JSONL).", valueName: "M.jsonl"))
    var manifest: String?
    @Option(name: .long, help: ArgumentHelp("learned/distill: dev utterances (JSONL); their loss is recorded.", valueName: "M.jsonl"))
    var dev: String?
    @Option(name: .long, help: "learned/distill: optimizer steps. Default: learned 40, distill 2 epochs over --manifest.")
    var steps: Int?
    @Option(name: .long, help: "learned/distill: utterances per step.")
    var batch = 4
    @Option(name: .long, help: "learned/distill: peak learning rate. Default: learned 0.02, distill 5e-4.")
    var lr: Double?
    @Option(name: .long, help: "distill: softmax temperature of the KL term.")
    var temperature = 2.0
    @Option(name: .long, help: "distill: weight lambda of the cross-entropy on the reference text.")
    var ceWeight = 0.5
    @Option(name: .long, help: "learned: one weight per expert for the whole model (expert), per layer, or per module.")
    var granularity: FusionGranularity = .layer
    @Option(name: .long, help: "Composite name (lowercase letters, digits, . _ -).")
    var name: String
    @Option(name: .long, help: "Semantic version, e.g. 1.0.0.")
    var version: String
    @Option(name: .long, help: "Free-text description.")
    var description = ""
    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if (experts == nil) == (languages == nil) { throw ValidationError("Give exactly one of --experts REF,REF,... or --languages de,fr,...") }
    }

    struct Result: Encodable {
        var digest: String
        var name: String
        var version: String
        var method: String
        var languages: [String]
        var inputs: [String]
        var seconds: Double
        var reused: Bool
        var truncationErrorMax: Double?
        enum CodingKeys: String, CodingKey {
            case digest, name, version, method, languages, inputs, seconds, reused, truncationErrorMax = "truncation_error_max"
        }
    }

    func run() throws {
        try reporting {
            let reg = try Registry(root: registry.path)
            let selected: [SelectedExpert]
            if let experts {
                selected = try reg.selectExperts(refs: Self.list(experts))
            } else {
                selected = try reg.selectExperts(languages: Self.list(languages ?? ""), base: base)
                for e in selected { Console.log("glossa: \(e.manifest.language): \(e.ref) (\(e.reason))") }
            }
            var job = Composition(experts: selected, method: method, name: name, version: version)
            if let weights {
                job.weights = try Self.list(weights).map { text throws(GlossaError) in
                    guard let v = Double(text), v.isFinite else { throw GlossaError(.invalidInput, "--weights: '\(text)' is not a number") }
                    return v
                }
            }
            job.rank = rank; job.density = density; job.seed = seed; job.description = description
            if let manifest {
                var t = CompositionTraining(manifest: manifest)
                t.dev = dev; t.steps = steps; t.batchSize = batch; t.learningRate = lr; t.granularity = granularity
                t.distillation = DistillationConfig(temperature: temperature, ceWeight: ceWeight)
                job.training = t
            } else if method.trains {
                throw GlossaError(.invalidInput, "--method \(method.rawValue) trains on utterances: give --manifest M.jsonl (e.g. from glossa corpus synth)")
            }
            let compute = try runtime.trainingCompute()
            let bar = ProgressBar(total: 1, label: "compose")
            let out = try job.run(registry: reg, compute: compute, log: { Console.log("glossa: \($0)") }) { bar.updateTotal($0, $1) }
            bar.finish()
            if out.reused { Console.log("glossa: \(name):\(version) already holds this composite; nothing to do") }
            let result = Result(digest: out.digest.description, name: name, version: version, method: method.rawValue,
                                languages: out.manifest.languages, inputs: selected.map(\.ref), seconds: out.seconds, reused: out.reused,
                                truncationErrorMax: out.manifest.metrics["truncation_error_max"])
            if json { try Console(json: true).emit(result); return }
            print("\(name):\(version)\t\(method.rawValue)\t\(out.manifest.languages.joined(separator: ","))\t\(out.digest)\t"
                  + String(format: "%.1f s", out.seconds)
                  + (result.truncationErrorMax.map { String(format: "\ttruncation error max %.3f", $0) } ?? ""))
        }
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension CompositionMethod: ExpressibleByArgument {}
extension FusionGranularity: ExpressibleByArgument {}

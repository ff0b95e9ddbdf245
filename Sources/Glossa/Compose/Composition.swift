import Compose
import Foundation
import GlossaCore
import Store
import Tensor
import Training

/// How experts are composed (`glossa compose --method`).
public enum CompositionMethod: String, Sendable, CaseIterable, Codable {
    case cat, linear, ties, dare, shared, learned, distill

    /// Methods that keep a per-language part or teacher, so two experts may not serve one language.
    var routesByLanguage: Bool { self == .shared || self == .distill }
    /// Methods that train on a manifest.
    public var trains: Bool { self == .learned || self == .distill }
}

/// One composition job: experts in, a published composite out.
///
/// Deterministic: the same experts, recipe and seed give the same tensors and the same
/// manifest digest (its `created` time is the newest input's, and the wall time is reported,
/// not recorded). Re-running a job whose `name:version` already holds the same recipe and
/// inputs computes nothing and returns the published digest.
public struct Composition: Sendable {
    public var experts: [SelectedExpert]
    public var method: CompositionMethod
    /// One per expert (nil: 1/E each).
    public var weights: [Double]?
    /// Target rank (nil: the largest input rank). For `shared`, the shared part's rank.
    public var rank: Int?
    public var density: Double = 0.5
    public var seed: UInt64 = 0
    public var name: String
    public var version: String
    public var description = ""
    /// Required by `learned` and `distill`.
    public var training: CompositionTraining?

    public init(experts: [SelectedExpert], method: CompositionMethod, name: String, version: String) {
        self.experts = experts; self.method = method; self.name = name; self.version = version
    }

    public struct Outcome: Sendable {
        public var digest: Digest
        public var manifest: CompositeManifest
        /// Wall time of this run (composition and publishing), seconds.
        public var seconds: Double
        /// True when the same composite was already published: nothing was computed.
        public var reused: Bool
    }

    /// The recipe this job records (and compares against an existing `name:version`); the
    /// manifests of trained methods enter it by digest.
    public func recipe() throws(GlossaError) -> CompositeManifest.Recipe {
        var p: [String: ScalarValue] = [:]
        if let weights { p["weights"] = .string(weights.map { String($0) }.joined(separator: ",")) }
        if let rank { p["rank"] = .number(Double(rank)) }
        if method == .ties || method == .dare { p["density"] = .number(density) }
        if method.trains, let training {
            let m = try Evaluation.readManifest(training.manifest).digest
            let d = try training.dev.map { d throws(GlossaError) in try Evaluation.readManifest(d).digest }
            for (k, v) in training.recipeParams(method, manifestDigest: m, devDigest: d) { p[k] = v }
        }
        let seeded = method == .dare || method.trains
        return CompositeManifest.Recipe(method: method.rawValue, params: p, seed: seeded ? seed : nil)
    }

    /// Checks everything that can be checked before any work or write.
    func validate() throws(GlossaError) {
        if let p = ArtifactName.problem(with: name) { throw GlossaError(.invalidInput, "--name \(p)") }
        if SemanticVersion(version) == nil { throw GlossaError(.invalidInput, "--version '\(version)' is not a semantic version (e.g. 1.0.0)") }
        guard !experts.isEmpty else { throw GlossaError(.invalidInput, "No experts to compose") }
        if let w = weights, w.count != experts.count {
            throw GlossaError(.invalidInput, "--weights lists \(w.count) values for \(experts.count) experts (\(experts.map(\.ref).joined(separator: ", "))); give one weight per expert, in the same order")
        }
        if let rank, rank < 1 { throw GlossaError(.invalidInput, "--rank \(rank) must be at least 1") }
        if method.trains && training == nil {
            throw GlossaError(.invalidInput, "--method \(method.rawValue) trains on utterances: give --manifest M.jsonl")
        }
        if let t = training, method.trains {
            if let s = t.steps, s < 1 { throw GlossaError(.invalidInput, "--steps \(s) must be at least 1") }
            if t.batchSize < 1 { throw GlossaError(.invalidInput, "--batch \(t.batchSize) must be at least 1") }
            if let lr = t.learningRate, !(lr > 0 && lr.isFinite) { throw GlossaError(.invalidInput, "--lr \(lr) must be a positive number") }
            if !(t.distillation.temperature > 0 && t.distillation.temperature.isFinite) {
                throw GlossaError(.invalidInput, "--temperature \(t.distillation.temperature) must be positive")
            }
            if !(t.distillation.ceWeight >= 0 && t.distillation.ceWeight.isFinite) {
                throw GlossaError(.invalidInput, "--ce-weight \(t.distillation.ceWeight) must be 0 or more")
            }
        }
        if method == .ties || method == .dare, !(density > 0 && density <= 1) {
            throw GlossaError(.invalidInput, "--density \(density) is outside (0, 1]: it is the fraction of each delta's entries kept (e.g. 0.5)")
        }
        if method.routesByLanguage {
            var owner: [String: String] = [:]
            for e in experts { for l in e.manifest.coveredLanguages {
                if let o = owner[l] {
                    throw GlossaError(.invalidInput, "\(o) and \(e.ref) both serve '\(l)'; --method \(method.rawValue) routes by language, so give one expert per language")
                }
                owner[l] = e.ref
            } }
        }
    }

    public func run(registry: Registry, compute: Compute, log: (String) -> Void,
                    progress: (Int, Int) -> Void = { _, _ in }) throws(GlossaError) -> Outcome {
        let clock = ContinuousClock(), t0 = clock.now
        func elapsed() -> Double { let d = clock.now - t0; return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        try validate()
        try registry.checkOneBase(experts)
        // A taken name:version is refused by `existingComposite` below unless it holds this very
        // composite; either way that is decided before any work.
        let recipe = try recipe()
        if let existing = try existingComposite(registry, recipe: recipe) {
            return Outcome(digest: existing.0, manifest: existing.1, seconds: elapsed(), reused: true)
        }
        var inputs: [ComposeInput] = []
        for e in experts {
            let (_, w, _) = try registry.loadExpert(e.digest.description)
            inputs.append(ComposeInput(name: e.ref, adapter: w))
        }
        // Modules are composed one per core, BLAS single-threaded inside each (see Composer).
        let composer = Composer(blas: compute.blas, workers: compute.threads)
        compute.blas.setThreads(1)
        defer { compute.blas.setThreads(compute.threads) }
        var metrics: [String: Double] = [:]
        var own: FusedAdapter
        var routes: [String: FusedAdapter] = [:]
        var dataDigest: Digest? = nil
        if method.trains, let training {
            let out = try withoutActuallyEscaping(log) { log throws(GlossaError) in
                try withoutActuallyEscaping(progress) { progress throws(GlossaError) in
                    try TrainedComposition(job: self, training: training, registry: registry, compute: compute, log: log,
                                           progress: progress).run(inputs: inputs)
                }
            }
            own = out.adapter; metrics = out.metrics; dataDigest = out.dataDigest
        } else { do {
            switch method {
            case .cat, .linear, .ties, .dare:
                let m = FusionMethod(rawValue: method.rawValue)!
                own = try composer.fuse(inputs, FusionOptions(method: m, weights: weights, rank: rank, density: density, seed: seed),
                                        progress: progress)
            case .shared:
                let split = try composer.splitShared(inputs, weights: weights, sharedRank: rank, progress: progress)
                own = split.shared
                for (e, r) in zip(experts, split.residuals) {
                    for l in e.manifest.coveredLanguages { routes[l] = r }
                    metrics["residual_truncation_error_max/" + e.manifest.coveredLanguages.joined(separator: ",")] = r.truncationSummary.max
                }
            case .learned, .distill: preconditionFailure("trained methods take the branch above")
            }
        } catch { throw GlossaError(.invalidInput, "Cannot compose \(name):\(version): \(error)") } }
        if !own.truncationError.isEmpty {
            for (module, err) in own.truncationError { metrics["truncation_error/" + module] = err }
            metrics["truncation_error_max"] = own.truncationSummary.max
            metrics["truncation_error_mean"] = own.truncationSummary.mean
        }
        let (d, manifest) = try publish(registry, recipe: recipe, own: own, routes: routes, metrics: metrics, dataDigest: dataDigest)
        log("published \(name):\(version) \(d.short)")
        return Outcome(digest: d, manifest: manifest, seconds: elapsed(), reused: false)
    }

    /// The composite already published as `name:version`, when it has this job's recipe and
    /// inputs (nil when there is none); another one there is an error.
    func existingComposite(_ registry: Registry, recipe: CompositeManifest.Recipe) throws(GlossaError) -> (Digest, CompositeManifest)? {
        let rows = try registry.list(ArtifactFilter(name: name)).filter { $0.version == version }
        guard let row = rows.first else { return nil }
        guard case .composite(let m) = try registry.manifest(row.digest), m.recipe == recipe, m.inputs == experts.map(\.digest) else {
            throw GlossaError(.invalidInput, "\(name):\(version) is already published (\(row.digest.short)) with other content or another recipe; choose another --version")
        }
        return (row.digest, m)
    }

    func publish(_ registry: Registry, recipe: CompositeManifest.Recipe, own: FusedAdapter, routes: [String: FusedAdapter],
                 metrics: [String: Double], dataDigest: Digest?) throws(GlossaError) -> (Digest, CompositeManifest) {
        let languages = Array(Set(experts.flatMap(\.manifest.coveredLanguages))).sorted()
        // The newest input's creation time: composing the same inputs again gives the same bytes.
        let created = experts.map(\.manifest.provenance.created).max() ?? Registry.now()
        var hyper: [String: ScalarValue] = ["experts": .string(experts.map(\.ref).joined(separator: ","))]
        for (k, v) in recipe.params { hyper[k] = v }
        do {
            let ownWeights = own.loraWeights
            var routed: [String: CompositeManifest.RoutedAdapter] = [:]
            for (l, r) in routes { let w = r.loraWeights; routed[l] = .init(lora: w.config, tensors: try registry.putLoRA(w)) }
            let m = CompositeManifest(
                name: name, version: version, languages: languages, base: experts[0].base, recipe: recipe,
                inputs: experts.map(\.digest), lora: own.modules.isEmpty ? nil : ownWeights.config,
                tensors: try registry.putLoRA(ownWeights), routes: routed,
                provenance: Provenance(dataDigest: dataDigest, hyperparameters: hyper, toolVersion: GlossaVersion.tool, created: created),
                metrics: metrics, description: description, baseWeights: try registry.baseWeights(experts[0].base))
            try m.validate()
            return (try registry.store.publish(m), m)
        } catch let e as StoreError {
            throw Registry.wrap(e, "Cannot publish composite \(name):\(version)")
        } catch {
            throw GlossaError(.invalidInput, "Cannot publish composite \(name):\(version): \(error)")
        }
    }
}

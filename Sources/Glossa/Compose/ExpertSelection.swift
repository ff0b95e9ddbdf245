import Foundation
import GlossaCore
import Store

/// The experts a composition starts from, resolved and checked: one base, no duplicates.
public struct SelectedExpert: Sendable {
    public var ref: String
    public var digest: Digest
    public var manifest: ExpertManifest
    /// The base it runs on here (`Registry.attachedBase`): the base its manifest names, or
    /// this registry's base with the same weights for an expert made elsewhere.
    public var base: Digest
    /// Why it was chosen (for `--languages`: "tagged stable" or "best dev WER 12.3%").
    public var reason: String
}

extension Registry {
    /// Resolves `--experts` REFs: each must be an expert, all on one base, none twice.
    public func selectExperts(refs: [String]) throws(GlossaError) -> [SelectedExpert] {
        guard !refs.isEmpty else { throw GlossaError(.invalidInput, "No experts given; pass --experts REF,REF or --languages de,fr") }
        var out: [SelectedExpert] = []
        for ref in refs {
            let d = try resolve(ref)
            guard case .expert(let m) = try manifest(d) else {
                throw GlossaError(.invalidInput, "'\(ref)' is not an expert (composites are composed from experts); give expert REFs")
            }
            if let dup = out.first(where: { $0.digest == d }) {
                throw GlossaError(.invalidInput, "'\(ref)' and '\(dup.ref)' name the same expert \(d.short); give each expert once")
            }
            out.append(SelectedExpert(ref: ref, digest: d, manifest: m, base: try attachedBase(of: d), reason: "given"))
        }
        try checkOneBase(out)
        return out
    }

    /// For each language, the expert tagged `stable` that serves it, else the one with the best
    /// recorded dev WER, among single-language experts on `base` (nil: the registry's only base).
    public func selectExperts(languages: [String], base: String?) throws(GlossaError) -> [SelectedExpert] {
        guard !languages.isEmpty else { throw GlossaError(.invalidInput, "--languages is empty; give codes such as de,fr") }
        let baseDigest: Digest
        if let base { baseDigest = try resolve(base) } else { baseDigest = try defaultBase() }
        var out: [SelectedExpert] = []
        var missing: [String] = []
        for l in languages {
            let rows = try list(ArtifactFilter(kind: .expert, language: l, base: baseDigest))
            var candidates: [(ArtifactSummary, ExpertManifest)] = []
            for r in rows {
                guard case .expert(let m) = try manifest(r.digest), m.language == l else { continue }   // not a 'mul' baseline
                candidates.append((r, m))
            }
            if let stable = candidates.first(where: { $0.0.tags.contains { $0.hasSuffix(":stable") } }) {
                out.append(SelectedExpert(ref: stable.0.displayName, digest: stable.0.digest, manifest: stable.1, base: baseDigest,
                                          reason: "tagged stable"))
                continue
            }
            let scored = candidates.compactMap { c in c.1.metrics["dev_wer"].map { (c, $0) } }
            // Lowest dev WER; ties go to the newest, then the name, so the pick is stable.
            if let best = scored.min(by: { ($0.1, $1.0.0.created, $0.0.0.displayName) < ($1.1, $0.0.0.created, $1.0.0.displayName) }) {
                out.append(SelectedExpert(ref: best.0.0.displayName, digest: best.0.0.digest, manifest: best.0.1, base: baseDigest,
                                          reason: String(format: "best dev WER %.1f%%", best.1 * 100)))
            } else if candidates.isEmpty {
                missing.append(l)
            } else {
                throw GlossaError(.invalidInput, "No expert for '\(l)' is tagged stable or has a dev WER (\(candidates.map(\.0.displayName).joined(separator: ", "))); tag one with `glossa tag REF stable` or pass --experts")
            }
        }
        if !missing.isEmpty {
            throw GlossaError(.notFound, "No expert on base \(baseDigest.short) serves \(missing.joined(separator: ", ")); train one with `glossa train --lang \(missing[0])` or drop it from --languages")
        }
        return out
    }

    /// Experts made in other registries count as on one base when their bases have equal
    /// weights (they are attached to the same base here).
    func checkOneBase(_ experts: [SelectedExpert]) throws(GlossaError) {
        guard let first = experts.first else { return }
        if let other = experts.first(where: { $0.base != first.base }) {
            throw GlossaError(.invalidInput, "\(first.ref) adapts base \(first.base.short) but \(other.ref) adapts \(other.base.short) "
                              + "(other weights); compose experts of one base")
        }
    }
}

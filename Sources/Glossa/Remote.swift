import Foundation
import GlossaCore
import OCI

/// Push/pull between the embedded registry and an OCI distribution registry.
public struct Remote: Sendable {
    public let registry: Registry
    public let credentials: any CredentialsProvider
    public let insecure: Bool

    public init(registry: Registry, credentials: any CredentialsProvider, insecure: Bool) {
        self.registry = registry; self.credentials = credentials; self.insecure = insecure
    }

    /// Credentials for `remote`, in this order: $GLOSSA_REGISTRY_USERNAME and
    /// $GLOSSA_REGISTRY_PASSWORD (sent only to $GLOSSA_REGISTRY_HOST, else to the registry of
    /// `remote`), then the `auths` of $DOCKER_CONFIG/config.json (default ~/.docker).
    public static func credentials(for remote: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(GlossaError) -> any CredentialsProvider {
        var chain: [any CredentialsProvider] = []
        if let fromEnv = EnvironmentCredentials(environment: environment, target: try reference(remote).registry) {
            chain.append(fromEnv)
        }
        let home = environment["DOCKER_CONFIG"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".docker")
        let config = home.appendingPathComponent("config.json")
        if let data = FileManager.default.contents(atPath: config.path) {
            do { chain.append(try DockerConfigCredentials(data: data, source: config.path)) } catch {
                throw GlossaError(.invalidInput, "\(error)")
            }
        }
        return ChainedCredentials(chain)
    }

    /// Parses `oci://HOST[:PORT]/REPO[:TAG|@sha256:...]` (the `oci://` prefix is optional).
    public static func reference(_ text: String) throws(GlossaError) -> OCIReference {
        let t = text.hasPrefix("oci://") ? String(text.dropFirst(6)) : text
        do { return try OCIReference(parsing: t) } catch { throw wrap(error, "Invalid remote '\(text)'") }
    }

    static func wrap(_ error: OCIError, _ context: String) -> GlossaError {
        let category: GlossaError.Category
        switch error {
        case .invalidReference, .invalidCredentials, .invalidManifest, .digestMismatch, .unsupported: category = .invalidInput
        case .notFound: category = .notFound
        case .unauthorized, .forbidden, .network, .unexpectedResponse, .responseTooLarge: category = .unavailable
        default: category = .failure
        }
        return GlossaError(category, "\(context): \(error)")
    }

    /// Client options for `ref`: plain HTTP only with `insecure` or on loopback.
    static func options(for ref: OCIReference, insecure: Bool) -> RegistryClientOptions {
        var options = RegistryClientOptions()
        options.insecure = insecure || ref.isLoopback
        return options
    }

    func remote(for ref: OCIReference) throws(GlossaError) -> RemoteRegistry {
        var options = Self.options(for: ref, insecure: insecure)
        // Re-running an interrupted push resumes a half-sent large blob from this journal.
        options.uploadJournal = registry.root.appendingPathComponent("oci-uploads")
        do { return try RemoteRegistry(local: registry.store, registry: ref.registry, credentials: credentials, options: options) } catch {
            throw Self.wrap(error, "Cannot reach \(ref.registry)")
        }
    }

    /// Pushes `ref` (and what it builds on) to `target`, each with its stored signatures
    /// attached as referrers of its OCI manifest (see `GlossaOCI`).
    public func push(_ ref: String, to target: String) async throws(GlossaError) -> PushReport {
        let r = try Self.reference(target)
        let registry = self.registry
        do {
            return try await remote(for: r).push(ref, to: r) { (artifact) throws(OCIError) -> [OCIAttachment] in
                do throws(GlossaError) { return try registry.signatures(of: artifact).map(Self.attachment) } catch {
                    throw .localRegistry(error.message)
                }
            }
        } catch let e as GlossaError { throw e } catch {
            throw Self.wrap(error as! OCIError, "Cannot push \(ref) to \(target)")
        }
    }

    static func attachment(_ s: Registry.ArtifactSignature) -> OCIAttachment {
        OCIAttachment(artifactType: GlossaOCI.signatureArtifactType, mediaType: GlossaOCI.signatureMediaType, data: s.bytes,
                      annotations: [GlossaOCI.Annotation.artifactDigest: s.artifact.description,
                                    GlossaOCI.Annotation.signatureKey: s.signature.keyIDText])
    }

    /// What `pull` did: the transfer, the signatures stored, and the signature check when a
    /// key was given.
    public struct PullOutcome: Sendable {
        public var report: PullReport
        /// Signatures stored with the pulled artifacts (found as referrers), by Glossa digest.
        public var signatures: [Digest: Int]
        /// The signature that verified with `verifyKey`; nil when no key was given.
        public var verified: Registry.SignatureCheck?
    }

    /// Pulls `source` (and what it builds on) with the signatures attached to them.
    ///
    /// With `verifyKey` (a minisign public key file), the artifact is trusted before anything
    /// is written: its OCI manifest is resolved once and pinned by digest, its manifest
    /// (the config blob) and signature referrers are fetched, and one signature by that key
    /// must verify over the manifest bytes; else the pull is refused (`invalidInput`, exit 65)
    /// and nothing is imported. The manifest pins every blob and every artifact it builds on
    /// by digest, and the pull checks each of those on arrival, so the one check covers all.
    public func pull(_ source: String, verifyKey: String? = nil) async throws(GlossaError) -> PullOutcome {
        var r = try Self.reference(source)
        let key = try verifyKey.map { (path) throws(GlossaError) in try Signing.publicKey(path) }
        do {
            let remote = try remote(for: r)
            if r.digest == nil {
                guard let d = try await remote.client.resolveManifest(repository: r.repository, reference: r.manifestReference) else {
                    throw OCIError.notFound(what: "tag", reference: r.description)
                }
                r.digest = d
            }
            let pinned = r.digest!
            var found: [Digest: [Data]] = [:]
            var verified: Registry.SignatureCheck?
            if let key, let verifyKey {
                let fetched = try await remote.client.getManifest(repository: r.repository, reference: pinned.description)
                guard let oci = try? JSONDecoder().decode(OCIImageManifest.self, from: fetched.data) else {
                    throw GlossaError(.invalidInput, "Cannot pull \(source): \(pinned.short) is not an OCI image manifest; nothing was imported")
                }
                // A Glossa artifact's manifest is its config; a bundle image's is its first layer,
                // and it may carry its signature as a layer too.
                let artifact: Digest
                var sigs: [Data] = []
                if oci.config.mediaType == GlossaOCI.configMediaType {
                    artifact = oci.config.digest
                } else if let layer = GlossaOCI.bundleManifestLayer(of: oci) {
                    artifact = layer.digest
                    sigs = try await remote.carriedSignatures(pinned, repository: r.repository)
                } else {
                    throw GlossaError(.invalidInput, "Cannot pull \(source): \(pinned.short) is not a Glossa artifact, so it cannot carry "
                                      + "a Glossa signature; nothing was imported")
                }
                let manifest = [UInt8](try await remote.client.fetchBlob(repository: r.repository, digest: artifact))
                sigs += try await signatureFiles(remote, repository: r.repository, manifest: pinned)
                let parsed = sigs.compactMap { try? MinisignSignature(fileText: String(decoding: $0, as: UTF8.self), path: "") }
                let good = try Registry.check(parsed, over: manifest, with: key, publicKeyPath: verifyKey,
                                              subject: "\(source) (artifact \(artifact.short))",
                                              howToSign: "glossa sign REF --key NAME.key", consequence: "; nothing was imported")
                found[artifact] = sigs
                verified = Registry.SignatureCheck(artifact: artifact, keyID: good.keyIDText, trustedComment: good.trustedComment)
            }
            let report = try await remote.pull(r)
            if let verified, report.artifactDigest != verified.artifact {
                // Cannot happen: the manifest was pinned by digest, and it names the config by digest.
                throw GlossaError(.failure,
                                  "Pulled \(report.artifactDigest.short) from \(source) after verifying \(verified.artifact.short)")
            }
            for (artifact, md) in report.manifests where found[artifact] == nil {
                found[artifact] = try await signatureFiles(remote, repository: r.repository, manifest: md)
                    + (artifact == report.artifactDigest ? report.carriedSignatures : [])
            }
            var stored: [Digest: Int] = [:]
            for (artifact, files) in found {
                // Referrers anyone could add: those that are not minisign signatures are left behind.
                for f in files where (try? MinisignSignature(fileText: String(decoding: f, as: UTF8.self), path: "")) != nil {
                    do { try registry.addSignature(f, to: artifact) } catch {
                        throw GlossaError(error.category, "Pulled \(report.artifactDigest.short) from \(source), but cannot store "
                                          + "the signature of \(artifact.short): \(error.message); run the pull again to store it")
                    }
                    stored[artifact, default: 0] += 1
                }
            }
            return PullOutcome(report: report, signatures: stored, verified: verified)
        } catch let e as GlossaError { throw e } catch {
            throw Self.wrap(error as! OCIError, "Cannot pull \(source)")
        }
    }

    /// The `.minisig` files attached to the OCI manifest `manifest` as signature referrers.
    func signatureFiles(_ remote: RemoteRegistry, repository: String, manifest: Digest) async throws(OCIError) -> [Data] {
        try await remote.attachments(of: manifest, repository: repository, artifactType: GlossaOCI.signatureArtifactType)
            .filter { $0.mediaType == GlossaOCI.signatureMediaType }.map(\.data)
    }

    /// The tags of remote repository `source` (`oci://HOST/REPO`) with what their
    /// annotations say. Reads only the remote: no local registry is opened or created.
    public static func list(_ source: String, credentials: any CredentialsProvider, insecure: Bool) async throws(GlossaError) -> [RemoteArtifact] {
        let r = try reference(source)
        do {
            let client = try RegistryClient(registry: r.registry, credentials: credentials, options: options(for: r, insecure: insecure))
            return try await client.listArtifacts(repository: r.repository)
        } catch {
            throw wrap(error, "Cannot list \(source)")
        }
    }
}

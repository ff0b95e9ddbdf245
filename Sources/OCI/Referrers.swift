import Foundation
import GlossaCore

/// An OCI image index (`application/vnd.oci.image.index.v1+json`). Here it is the referrers
/// list: what `GET /v2/<name>/referrers/<digest>` answers, and what the referrers tag holds on
/// registries without that API. Keys mirror the JSON; validated on decode.
public struct OCIImageIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [OCIDescriptor]
    public var annotations: [String: String]?

    public init(manifests: [OCIDescriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        mediaType = OCIMediaType.imageIndex
        self.manifests = manifests
        self.annotations = annotations
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType)
        manifests = try c.decodeIfPresent([OCIDescriptor].self, forKey: .manifests) ?? []
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
        guard schemaVersion == 2 else {
            throw DecodingError.dataCorruptedError(forKey: .schemaVersion, in: c,
                                                   debugDescription: "schemaVersion must be 2, got \(schemaVersion)")
        }
        if let m = mediaType, m != OCIMediaType.imageIndex {
            throw DecodingError.dataCorruptedError(forKey: .mediaType, in: c, debugDescription: "not an image index: \(m)")
        }
    }
}

/// A small artifact attached to a manifest through `subject` (image-spec 1.1 "referrers"):
/// one layer holding `data`, an empty config, and `artifactType` so clients can filter.
/// Glossa attaches minisign signatures this way.
public struct OCIAttachment: Sendable, Equatable {
    public var artifactType: String
    /// Media type of the one layer that holds `data`.
    public var mediaType: String
    public var data: Data
    public var annotations: [String: String]

    public init(artifactType: String, mediaType: String, data: Data, annotations: [String: String] = [:]) {
        self.artifactType = artifactType; self.mediaType = mediaType; self.data = data; self.annotations = annotations
    }

    /// The largest attachment accepted on pull: signatures are a few hundred bytes.
    public static let maxBytes = 64 << 10

    /// The artifact manifest that attaches this to `subject`. Deterministic (sorted keys), so
    /// attaching the same bytes twice makes the same manifest digest and no duplicate.
    public func manifest(subject: OCIDescriptor) -> OCIImageManifest {
        var m = OCIImageManifest(
            artifactType: artifactType,
            config: OCIEmpty.descriptor,
            layers: [OCIDescriptor(mediaType: mediaType, digest: Digest(of: data), size: Int64(data.count))],
            annotations: annotations.isEmpty ? nil : annotations)
        m.subject = subject
        return m
    }
}

/// The empty JSON blob `{}` (image-spec 1.1): the config of artifacts that need none.
public enum OCIEmpty {
    public static let data = Data("{}".utf8)
    public static var descriptor: OCIDescriptor {
        OCIDescriptor(mediaType: OCIMediaType.emptyJSON, digest: Digest(of: data), size: Int64(data.count))
    }
}

/// How a registry keeps the referrers of a manifest (distribution-spec 1.1).
public enum ReferrersMode: String, Sendable, Equatable {
    /// `GET /v2/<name>/referrers/<digest>`; the registry answered a manifest PUT with `OCI-Subject`.
    case api
    /// The registry has no referrers API (Docker Distribution 2.x): the client keeps an image
    /// index of referrers under the tag `sha256-<hex>` of the subject ("referrers tag schema").
    case tagSchema
}

extension RegistryClient {
    /// The referrers tag of `subject` (distribution-spec "Referrers Tag Schema"): algorithm,
    /// `-`, hex; for sha256 nothing needs truncating or replacing.
    public static func referrersTag(_ subject: Digest) -> String { "\(Digest.algorithm)-\(subject.hex)" }

    /// Descriptors of the manifests whose `subject` is `subject`, optionally only those of
    /// `artifactType`. Uses the referrers API; on 404 (no API) falls back to the referrers
    /// tag, and a missing or invalid tag means no referrers, as the spec says.
    public func referrers(repository: String, subject: Digest,
                          artifactType: String? = nil) async throws(OCIError) -> (descriptors: [OCIDescriptor], mode: ReferrersMode) {
        let scopes = [repoScope(repository, push: false)]
        // Filtered here, not with `?artifactType=`: registries may ignore the filter (and say
        // so only in a header), and media types hold `+`, which query strings may read as a space.
        var next: URL? = url("/v2/\(repository)/referrers/\(subject)")
        var found: [OCIDescriptor] = []
        var pages = 0
        while let u = next {
            pages += 1
            guard pages <= 1000 else { throw .unsupported("referrers list of \(repository)@\(subject.short) did not end after 1000 pages") }
            let r = try await send("GET", u, scopes: scopes, headers: ["Accept": OCIMediaType.imageIndex],
                                   sink: .memory(limit: Self.responseLimit, what: "referrers of \(repository)@\(subject.short)"))
            if r.status == 404 && pages == 1 {
                let tagged = try await referrersFromTag(repository: repository, subject: subject)?.manifests ?? []
                return (Self.filter(tagged, artifactType), .tagSchema)
            }
            guard r.status == 200 else {
                throw failure(r, what: "referrers of", reference: "\(repository)@\(subject)", scopes: scopes, method: "GET")
            }
            stats.bytesDownloaded += Int64(r.body.count)
            guard let page = try? JSONDecoder().decode(OCIImageIndex.self, from: r.body) else {
                throw .invalidManifest(reference: "referrers of \(repository)@\(subject.short)",
                                       reason: "the answer is not an OCI image index")
            }
            found += page.manifests
            next = r.header("Link").flatMap(Self.nextLink).flatMap(resolve(location:))
        }
        return (Self.filter(found, artifactType), .api)
    }

    static func filter(_ d: [OCIDescriptor], _ artifactType: String?) -> [OCIDescriptor] {
        guard let artifactType else { return d }
        return d.filter { $0.artifactType == artifactType }
    }

    /// The image index under the referrers tag of `subject`, or nil when there is none (or
    /// the tag holds something else, which the spec says to read as "no referrers").
    func referrersFromTag(repository: String, subject: Digest) async throws(OCIError) -> OCIImageIndex? {
        let fetched: FetchedManifest
        do { fetched = try await getManifest(repository: repository, reference: Self.referrersTag(subject)) } catch {
            if case .notFound = error { return nil }
            throw error
        }
        return try? JSONDecoder().decode(OCIImageIndex.self, from: fetched.data)
    }

    /// Pushes the artifact manifest `manifest` (which names a `subject`) by digest. When the
    /// registry does not say it indexed the subject (no `OCI-Subject` answer header), adds the
    /// manifest to the referrers tag index of the subject, once: read, append if absent,
    /// write, read back; a concurrent writer that dropped our entry is answered by retrying.
    /// Blobs (config, layers) must already be in the repository.
    @discardableResult
    public func pushReferrer(_ manifest: OCIImageManifest,
                             repository: String) async throws(OCIError) -> (digest: Digest, mode: ReferrersMode) {
        guard let subject = manifest.subject else {
            throw .unsupported("pushReferrer needs a manifest with a subject")
        }
        let body = try GlossaOCI.encode(manifest)
        let (digest, headers) = try await putManifestAnswer(body, mediaType: OCIMediaType.imageManifest, repository: repository,
                                                            reference: Digest(of: body).description)
        if let s = headers["oci-subject"], (try? Digest(parsing: s)) == subject.digest { return (digest, .api) }

        let entry = OCIDescriptor(mediaType: OCIMediaType.imageManifest, digest: digest, size: Int64(body.count),
                                  annotations: manifest.annotations, artifactType: manifest.effectiveArtifactType)
        let tag = Self.referrersTag(subject.digest)
        for _ in 0..<4 {
            var index: OCIImageIndex
            do throws(OCIError) {
                let fetched = try await getManifest(repository: repository, reference: tag)
                guard let existing = try? JSONDecoder().decode(OCIImageIndex.self, from: fetched.data) else {
                    throw OCIError.invalidManifest(
                        reference: "\(repository):\(tag)",
                        reason: "the referrers tag of \(subject.digest.short) holds something other than an image index; "
                            + "remove that tag (it is reserved for referrers by the OCI distribution spec) and push again")
                }
                index = existing
            } catch {
                guard case .notFound = error else { throw error }
                index = OCIImageIndex(manifests: [])
            }
            if index.manifests.contains(where: { $0.digest == digest }) { return (digest, .tagSchema) }
            index.manifests.append(entry)
            try await putManifest(try Self.encodeIndex(index), mediaType: OCIMediaType.imageIndex, repository: repository, reference: tag)
            if let back = try await referrersFromTag(repository: repository, subject: subject.digest),
               back.manifests.contains(where: { $0.digest == digest }) {
                return (digest, .tagSchema)
            }
        }
        throw .unexpectedResponse(method: "PUT", url: "\(registry)/v2/\(repository)/manifests/\(tag)", status: 0,
                                  body: "the referrers tag kept losing the new entry (another client writing it at the same time); "
                                      + "push again")
    }

    static func encodeIndex(_ index: OCIImageIndex) throws(OCIError) -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try e.encode(index) } catch { throw .invalidManifest(reference: "referrers index", reason: "\(error)") }
    }
}

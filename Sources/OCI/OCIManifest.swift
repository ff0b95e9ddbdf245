import GlossaCore

/// OCI media types this client speaks (image-spec v1.1).
public enum OCIMediaType {
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let emptyJSON = "application/vnd.oci.empty.v1+json"
    /// Sent as `Accept` when fetching manifests.
    static let acceptManifests = [imageManifest, imageIndex, dockerManifest].joined(separator: ", ")
}

/// An OCI content descriptor: what a manifest says about one blob.
public struct OCIDescriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    /// Bytes as transferred.
    public var size: Int64
    public var annotations: [String: String]?
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, artifactType: String? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.artifactType = artifactType
    }
}

/// An OCI image manifest (`application/vnd.oci.image.manifest.v1+json`), used as an artifact
/// manifest via `artifactType`. Keys mirror the JSON; validated on decode.
public struct OCIImageManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var config: OCIDescriptor
    public var layers: [OCIDescriptor]
    public var subject: OCIDescriptor?
    public var annotations: [String: String]?

    public init(artifactType: String?, config: OCIDescriptor, layers: [OCIDescriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = OCIMediaType.imageManifest
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.subject = nil
        self.annotations = annotations
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType)
        artifactType = try c.decodeIfPresent(String.self, forKey: .artifactType)
        config = try c.decode(OCIDescriptor.self, forKey: .config)
        layers = try c.decodeIfPresent([OCIDescriptor].self, forKey: .layers) ?? []
        subject = try c.decodeIfPresent(OCIDescriptor.self, forKey: .subject)
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
        guard schemaVersion == 2 else {
            throw DecodingError.dataCorruptedError(forKey: .schemaVersion, in: c, debugDescription: "schemaVersion must be 2, got \(schemaVersion)")
        }
        if let m = mediaType, m != OCIMediaType.imageManifest, m != OCIMediaType.dockerManifest {
            throw DecodingError.dataCorruptedError(forKey: .mediaType, in: c, debugDescription: "not an image manifest: \(m)")
        }
        guard config.size >= 0, layers.allSatisfy({ $0.size >= 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .layers, in: c, debugDescription: "negative descriptor size")
        }
    }

    /// The artifact type as OCI 1.1 defines it: `artifactType`, else the config media type.
    public var effectiveArtifactType: String { artifactType ?? config.mediaType }
}

/// Body of `GET /v2/<name>/tags/list`.
struct TagList: Decodable {
    var name: String
    var tags: [String]?
}

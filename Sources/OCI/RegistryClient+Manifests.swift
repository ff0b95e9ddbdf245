import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GlossaCore

/// A manifest as fetched: its exact bytes (which its digest names), media type and digest.
public struct FetchedManifest: Sendable {
    public var data: Data
    public var mediaType: String
    public var digest: Digest
}

extension RegistryClient {
    /// `PUT /v2/<repo>/manifests/<tag or digest>`; returns the manifest digest (checked
    /// against the registry's `Docker-Content-Digest` when it sends one).
    @discardableResult
    public func putManifest(_ data: Data, mediaType: String = OCIMediaType.imageManifest, repository: String, reference: String) async throws(OCIError) -> Digest {
        try await putManifestAnswer(data, mediaType: mediaType, repository: repository, reference: reference).digest
    }

    /// `putManifest`, also returning the answer's headers (lower-cased names), where a
    /// registry with the referrers API says `OCI-Subject`.
    func putManifestAnswer(_ data: Data, mediaType: String, repository: String,
                           reference: String) async throws(OCIError) -> (digest: Digest, headers: [String: String]) {
        let scopes = [repoScope(repository, push: true)]
        let digest = Digest(of: data)
        let r = try await send("PUT", url("/v2/\(repository)/manifests/\(reference)"), scopes: scopes,
                               headers: ["Content-Type": mediaType, "Content-Length": String(data.count)], body: .data(data))
        guard r.status == 201 else {
            if r.status == 400 || r.status == 404, Self.snippet(r.body).contains("BLOB_UNKNOWN") {
                throw .notFound(what: "blob referenced by the manifest", reference: "\(repository) (\(Self.snippet(r.body)))")
            }
            throw failure(r, what: "repository", reference: repository, scopes: scopes, method: "PUT")
        }
        if let d = r.header("Docker-Content-Digest"), let got = try? Digest(parsing: d), got != digest {
            throw .digestMismatch(what: "manifest \(repository):\(reference)", expected: digest, actual: got)
        }
        return (digest, r.headers)
    }

    /// `GET /v2/<repo>/manifests/<ref>`; verifies the bytes against the digest asked for
    /// (or the `Docker-Content-Digest` header when fetching by tag).
    public func getManifest(repository: String, reference: String) async throws(OCIError) -> FetchedManifest {
        let scopes = [repoScope(repository, push: false)]
        let r = try await send("GET", url("/v2/\(repository)/manifests/\(reference)"), scopes: scopes,
                               headers: ["Accept": OCIMediaType.acceptManifests],
                               sink: .memory(limit: Self.responseLimit, what: "manifest \(repository):\(reference)"))
        guard r.status == 200 else { throw failure(r, what: "manifest", reference: "\(repository):\(reference)", scopes: scopes, method: "GET") }
        stats.bytesDownloaded += Int64(r.body.count)
        let actual = Digest(of: r.body)
        let claimed = (try? Digest(parsing: reference)) ?? r.header("Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
        if let claimed, claimed != actual {
            throw .digestMismatch(what: "manifest \(repository):\(reference)", expected: claimed, actual: actual)
        }
        let mediaType = r.header("Content-Type").map { String($0.split(separator: ";")[0]) } ?? OCIMediaType.imageManifest
        return FetchedManifest(data: r.body, mediaType: mediaType, digest: actual)
    }

    /// `HEAD /v2/<repo>/manifests/<tag>`: the digest a tag points at now, or nil if absent.
    public func resolveManifest(repository: String, reference: String) async throws(OCIError) -> Digest? {
        let scopes = [repoScope(repository, push: false)]
        let r = try await send("HEAD", url("/v2/\(repository)/manifests/\(reference)"), scopes: scopes,
                               headers: ["Accept": OCIMediaType.acceptManifests])
        switch r.status {
        case 200:
            if let d = r.header("Docker-Content-Digest"), let digest = try? Digest(parsing: d) { return digest }
            return try await getManifest(repository: repository, reference: reference).digest
        case 404: return nil
        default: throw failure(r, what: "manifest", reference: "\(repository):\(reference)", scopes: scopes, method: "HEAD")
        }
    }

    /// All tags, following `Link: <...>; rel="next"` pages of `pageSize`.
    public func listTags(repository: String, pageSize: Int = 100) async throws(OCIError) -> [String] {
        let scopes = [repoScope(repository, push: false)]
        var next: URL? = url("/v2/\(repository)/tags/list", query: [URLQueryItem(name: "n", value: String(pageSize))])
        var tags = [String]()
        var pages = 0
        while let u = next {
            pages += 1
            guard pages <= 100_000 else { throw .unsupported("tag list of \(repository) did not end after 100000 pages") }
            let r = try await send("GET", u, scopes: scopes)
            guard r.status == 200 else { throw failure(r, what: "repository", reference: repository, scopes: scopes, method: "GET") }
            guard let page = try? JSONDecoder().decode(TagList.self, from: r.body) else {
                throw .unexpectedResponse(method: "GET", url: u.absoluteString, status: 200, body: "tag list is not JSON {name, tags}")
            }
            tags += page.tags ?? []
            next = r.header("Link").flatMap(Self.nextLink).flatMap(resolve(location:))
        }
        return tags
    }

    /// `DELETE /v2/<repo>/manifests/<digest>` (registries may refuse: 405 when deletes are disabled).
    public func deleteManifest(repository: String, digest: Digest) async throws(OCIError) {
        let scopes = ["repository:\(repository):delete"]
        let r = try await send("DELETE", url("/v2/\(repository)/manifests/\(digest)"), scopes: scopes)
        guard r.status == 202 || r.status == 200 else {
            throw failure(r, what: "manifest", reference: "\(repository)@\(digest)", scopes: scopes, method: "DELETE")
        }
    }

    /// `<url>; rel="next"` -> url.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            guard part.contains("rel=\"next\"") || part.contains("rel=next"),
                  let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">") else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }
}

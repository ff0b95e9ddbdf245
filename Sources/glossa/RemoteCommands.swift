import ArgumentParser
import Foundation
import Glossa

/// `--insecure` and credentials for OCI registries.
struct RemoteOptions: ParsableArguments {
    @Flag(name: .long, help: "Allow plain HTTP (always allowed on loopback).")
    var insecure = false

    /// See `Remote.credentials(for:)`: the environment, then ~/.docker/config.json.
    /// - Parameter remote: the `oci://` reference the command talks to.
    func credentials(for remote: String) throws -> any CredentialsProvider {
        do { return try Remote.credentials(for: remote) } catch { throw CLIError(error) }
    }
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push an artifact (and the base it needs) to an OCI registry.",
        discussion: """
        Works with any OCI distribution registry (Docker Distribution, Harbor, Zot, GHCR...). Only blobs the registry lacks \
        are uploaded; an interrupted push can be re-run. Signatures made with `glossa sign REF` go along, as OCI referrers of \
        the artifact's manifest. Credentials: $GLOSSA_REGISTRY_USERNAME / $GLOSSA_REGISTRY_PASSWORD (sent only to this \
        registry, or to $GLOSSA_REGISTRY_HOST when set), else ~/.docker/config.json.

        Example:
          glossa push fr-expert:1.0.0 oci://localhost:5000/experts/fr:1.0.0
        """)
    @Argument(help: "Local REF.") var ref: String
    @Argument(help: "oci://HOST[:PORT]/REPO[:TAG]") var target: String
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        do {
            let r = try await Remote(registry: try Registry(root: registry.path), credentials: try remote.credentials(for: target),
                                     insecure: remote.insecure).push(ref, to: target)
            if json {
                try Console(json: true).emit(["artifact": r.artifactDigest.description, "manifest": r.manifestDigest.description,
                                              "reference": r.reference.description, "uploaded": String(r.stats.blobsUploaded),
                                              "skipped": String(r.stats.blobsSkipped), "bytes": String(r.stats.bytesUploaded),
                                              "signatures": String(r.attached.count), "referrers": r.referrersMode?.rawValue ?? ""])
            } else {
                let how = r.referrersMode == .api ? "referrers API" : "referrers tag"
                let signed = r.attached.isEmpty ? "" : "; \(r.attached.count) signature(s) attached (\(how))"
                print("pushed \(ref) -> \(r.reference) (\(r.artifactDigest.short)); \(r.stats.blobsUploaded) blobs uploaded, "
                      + "\(r.stats.blobsSkipped) already there, \(r.stats.bytesUploaded) bytes" + signed)
            }
        } catch let e as GlossaError {
            Console.log("error: \(e.message)"); throw CLIError(e).exitCode
        } catch let e as CLIError {
            Console.log("error: \(e.description)"); throw e.exitCode
        }
    }
}

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull an artifact (and the base it needs) from an OCI registry into the local registry.",
        discussion: """
        The artifact appears in the local catalog with the same digest as where it was published. Every blob is verified by \
        digest on arrival; the catalog row is written last, so a failed pull imports nothing (re-run it when the fault is \
        gone). Signatures attached to the artifacts (OCI referrers) are stored with them.

        Bases are matched by content (their weights digest): when this registry holds a base with the same weights as the \
        artifact's base (the same files imported here, at another time or under another name), the artifact attaches to that \
        base and only the remote base's manifest is kept. A different model under the base's name:version is refused with \
        exit code 65, and nothing is imported.

        With --verify-key PUB, the artifact's manifest and signatures are fetched first and one signature by that key must \
        verify over the manifest, which pins every blob and every artifact it builds on by digest. An unsigned artifact, one \
        signed only by other keys, or an altered artifact or signature is refused with exit code 65, and nothing is imported.

        A bundle (glossa export), also one that skopeo or oras copied into a registry, is pulled as a bundle artifact with \
        the same digests and the signature it carries; it needs nothing else in the registry (it holds its own base \
        weights), and glossa export NAME:VERSION writes it back out.

        Examples:
          glossa pull oci://localhost:5000/experts/fr:1.0.0
          glossa pull oci://localhost:5000/experts/fr:1.0.0 --verify-key release.pub
        """)
    @Argument(help: "oci://HOST[:PORT]/REPO[:TAG|@sha256:...]") var source: String
    @Option(name: .long, help: ArgumentHelp("Refuse the artifact unless a signature by this public key (minisign .pub) verifies.",
                                            valueName: "PUB"))
    var verifyKey: String?
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        do {
            if let verifyKey, !FileManager.default.fileExists(atPath: verifyKey) {
                throw CLIError(GlossaError(.notFound, "Cannot pull \(source): public key \(verifyKey) does not exist; "
                                           + "pass the publisher's minisign .pub file"))
            }
            let outcome = try await Remote(registry: try Registry(root: registry.path, create: true), credentials: try remote.credentials(for: source),
                                           insecure: remote.insecure).pull(source, verifyKey: verifyKey)
            let r = outcome.report
            let name = r.name.map { "\($0):\(r.version ?? "?")" } ?? r.artifactDigest.short
            let signatures = outcome.signatures[r.artifactDigest] ?? 0
            if json {
                try Console(json: true).emit(["artifact": r.artifactDigest.description, "kind": r.kind.rawValue, "name": name,
                                              "downloaded": String(r.stats.blobsDownloaded), "already_present": String(r.alreadyPresent),
                                              "signatures": String(signatures), "verified_key": outcome.verified?.keyID ?? ""])
            } else {
                print("pulled \(r.kind.rawValue) \(name) \(r.artifactDigest)" + (r.alreadyPresent ? " (already present)" : "")
                      + (r.alsoPulled.isEmpty ? "" : "; also pulled \(r.alsoPulled.map(\.short).joined(separator: ", "))")
                      + (outcome.verified.map { "; signature good (key \($0.keyID))" }
                         ?? (signatures > 0 ? "; \(signatures) signature(s), not checked" : "")))
            }
        } catch let e as GlossaError {
            Console.log("error: \(e.message)"); throw CLIError(e).exitCode
        } catch let e as CLIError {
            Console.log("error: \(e.description)"); throw e.exitCode
        }
    }
}

/// `glossa list --remote oci://HOST/REPO`.
func listRemote(_ source: String, json: Bool, options: RemoteOptions) async throws {
    do {
        // Reads only the remote: no local registry is needed (or created).
        let rows = try await Remote.list(source, credentials: try options.credentials(for: source), insecure: options.insecure)
        if json {
            try Console(json: true).emit(rows.map { ["tag": $0.tag, "artifact": $0.artifactDigest.description, "kind": $0.kind ?? "",
                                                     "name": $0.name ?? "", "version": $0.version ?? "",
                                                     "languages": $0.languages.joined(separator: ",")] })
            return
        }
        print(["TAG", "KIND", "NAME", "VERSION", "LANG", "DIGEST"].joined(separator: "\t"))
        for r in rows {
            print([r.tag, r.kind ?? "-", r.name ?? "-", r.version ?? "-", r.languages.joined(separator: ",").ifEmpty("-"),
                   r.artifactDigest.short].joined(separator: "\t"))
        }
    } catch let e as GlossaError {
        Console.log("error: \(e.message)"); throw CLIError(e).exitCode
    }
}

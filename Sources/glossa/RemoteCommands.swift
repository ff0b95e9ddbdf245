import ArgumentParser
import Foundation
import Glossa
import OCI

/// `--insecure` and credentials for OCI registries.
struct RemoteOptions: ParsableArguments {
    @Flag(name: .long, help: "Allow plain HTTP (always allowed on loopback).")
    var insecure = false

    /// $GLOSSA_REGISTRY_USERNAME / $GLOSSA_REGISTRY_PASSWORD (for $GLOSSA_REGISTRY_HOST, else
    /// the registry of `remote`), then ~/.docker/config.json `auths`.
    /// - Parameter remote: the `oci://` reference the command talks to.
    func credentials(for remote: String) throws -> any CredentialsProvider {
        var chain: [any CredentialsProvider] = []
        let env = ProcessInfo.processInfo.environment
        if let fromEnv = EnvironmentCredentials(environment: env, target: try Remote.reference(remote).registry) {
            chain.append(fromEnv)
        }
        let home = env["DOCKER_CONFIG"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".docker")
        let config = home.appendingPathComponent("config.json")
        if let data = FileManager.default.contents(atPath: config.path) {
            do { chain.append(try DockerConfigCredentials(data: data, source: config.path)) } catch {
                throw CLIError(GlossaError(.invalidInput, "\(error)"))
            }
        }
        return ChainedCredentials(chain)
    }
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push an artifact (and the base it needs) to an OCI registry.",
        discussion: """
        Works with any OCI distribution registry (Docker Distribution, Harbor, Zot, GHCR...).
        Only blobs the registry lacks are uploaded; an interrupted push can be re-run.
        Credentials: $GLOSSA_REGISTRY_USERNAME / $GLOSSA_REGISTRY_PASSWORD (sent only to this registry,
        or to $GLOSSA_REGISTRY_HOST when set), else ~/.docker/config.json.

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
                                              "skipped": String(r.stats.blobsSkipped), "bytes": String(r.stats.bytesUploaded)])
            } else {
                print("pushed \(ref) -> \(r.reference) (\(r.artifactDigest.short)); \(r.stats.blobsUploaded) blobs uploaded, \(r.stats.blobsSkipped) already there, \(r.stats.bytesUploaded) bytes")
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
        The artifact appears in the local catalog with the same digest as where it was published.
        Every blob is verified by digest on arrival; the catalog row is written last, so a failed
        pull imports nothing (re-run it when the fault is gone).

        Example:
          glossa pull oci://localhost:5000/experts/fr:1.0.0
        """)
    @Argument(help: "oci://HOST[:PORT]/REPO[:TAG|@sha256:...]") var source: String
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        do {
            let r = try await Remote(registry: try Registry(root: registry.path, create: true), credentials: try remote.credentials(for: source),
                                     insecure: remote.insecure).pull(source)
            let name = r.name.map { "\($0):\(r.version ?? "?")" } ?? r.artifactDigest.short
            if json {
                try Console(json: true).emit(["artifact": r.artifactDigest.description, "kind": r.kind.rawValue, "name": name,
                                              "downloaded": String(r.stats.blobsDownloaded), "already_present": String(r.alreadyPresent)])
            } else {
                print("pulled \(r.kind.rawValue) \(name) \(r.artifactDigest)" + (r.alreadyPresent ? " (already present)" : "")
                      + (r.alsoPulled.isEmpty ? "" : "; also pulled \(r.alsoPulled.map(\.short).joined(separator: ", "))"))
            }
        } catch let e as GlossaError {
            Console.log("error: \(e.message)"); throw CLIError(e).exitCode
        } catch let e as CLIError {
            Console.log("error: \(e.description)"); throw e.exitCode
        }
    }
}

/// `glossa list --remote oci://HOST/REPO`.
func listRemote(_ source: String, json: Bool, registryPath: URL, options: RemoteOptions) async throws {
    do {
        let rows = try await Remote(registry: try Registry(root: registryPath), credentials: try options.credentials(for: source),
                                    insecure: options.insecure).list(source)
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

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

    func remote(for ref: OCIReference) throws(GlossaError) -> RemoteRegistry {
        var options = RegistryClientOptions()
        options.insecure = insecure || ref.isLoopback
        // Re-running an interrupted push resumes a half-sent large blob from this journal.
        options.uploadJournal = registry.root.appendingPathComponent("oci-uploads")
        do { return try RemoteRegistry(local: registry.store, registry: ref.registry, credentials: credentials, options: options) } catch {
            throw Self.wrap(error, "Cannot reach \(ref.registry)")
        }
    }

    public func push(_ ref: String, to target: String) async throws(GlossaError) -> PushReport {
        let r = try Self.reference(target)
        do { return try await remote(for: r).push(ref, to: r) } catch let e as GlossaError { throw e } catch {
            throw Self.wrap(error as! OCIError, "Cannot push \(ref) to \(target)")
        }
    }

    public func pull(_ source: String) async throws(GlossaError) -> PullReport {
        let r = try Self.reference(source)
        do { return try await remote(for: r).pull(r) } catch let e as GlossaError { throw e } catch {
            throw Self.wrap(error as! OCIError, "Cannot pull \(source)")
        }
    }

    public func list(_ source: String) async throws(GlossaError) -> [RemoteArtifact] {
        let r = try Self.reference(source)
        do { return try await remote(for: r).list(repository: r.repository) } catch let e as GlossaError { throw e } catch {
            throw Self.wrap(error as! OCIError, "Cannot list \(source)")
        }
    }
}

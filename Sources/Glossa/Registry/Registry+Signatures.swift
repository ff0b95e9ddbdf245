import DurableFiles
import Foundation
import GlossaCore
import Store
import TensorIO

/// Signatures of registry artifacts (`glossa sign REF`, carried by `push` and `pull`).
///
/// What is signed is an artifact's manifest: its canonical JSON bytes, whose sha256 IS the
/// artifact digest, and which pins every blob (tensors, tokenizer) and every artifact it
/// builds on (base, inputs) by digest. The signature is minisign's prehashed "ED" kind, so
/// `minisign -V -p KEY.pub -m MANIFEST.json -x SIG.minisig` verifies it too.
///
/// Signatures live beside the store, not in it (a blob no manifest references would be
/// collected by gc), in a tree that is a pure function of the digests:
///
///     <root>/signatures/sha256/<artifact hex>/<sha256 hex of the .minisig bytes>.minisig
///
/// An artifact may have several (one per key). Files are written atomically; a signature
/// whose artifact was removed is inert (nothing reads it until that digest comes back).
extension Registry {
    /// One stored signature of an artifact.
    public struct ArtifactSignature: Sendable, Equatable {
        public var artifact: Digest
        public var signature: MinisignSignature
        /// The `.minisig` file's bytes, as pushed and pulled.
        public var bytes: Data
        public var path: URL
    }

    /// How a signature check of an artifact ended (`verifySignature`).
    public struct SignatureCheck: Sendable, Equatable {
        public var artifact: Digest
        public var keyID: String
        public var trustedComment: String
    }

    public var signaturesFolder: URL { root.appendingPathComponent("signatures/sha256") }

    func signatureFolder(_ artifact: Digest) -> URL { signaturesFolder.appendingPathComponent(artifact.hex) }

    /// The signatures stored for `artifact`, in file-name order. Unparseable files are
    /// reported, not skipped: they can only come from a damaged or edited registry.
    public func signatures(of artifact: Digest) throws(GlossaError) -> [ArtifactSignature] {
        let folder = signatureFolder(artifact)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var out: [ArtifactSignature] = []
        for name in names.sorted() where name.hasSuffix(".minisig") {
            let url = folder.appendingPathComponent(name)
            guard let bytes = FileManager.default.contents(atPath: url.path) else {
                throw GlossaError(.failure, "Cannot read signature \(url.path); check its permissions")
            }
            do {
                let sig = try MinisignSignature(fileText: String(decoding: bytes, as: UTF8.self), path: url.path)
                out.append(ArtifactSignature(artifact: artifact, signature: sig, bytes: bytes, path: url))
            } catch { throw error.glossa("Signature of \(artifact.short) in \(root.path) is damaged; remove \(url.path) and sign again") }
        }
        return out
    }

    /// Stores `bytes` (a `.minisig` file) as a signature of `artifact`, after checking that
    /// they parse. Idempotent: the file name is the digest of the bytes. Does not verify
    /// (that needs a public key): an unverified signature is information, not trust.
    @discardableResult
    public func addSignature(_ bytes: Data, to artifact: Digest) throws(GlossaError) -> ArtifactSignature {
        let folder = signatureFolder(artifact)
        let url = folder.appendingPathComponent(Digest(of: bytes).hex + ".minisig")
        let sig: MinisignSignature
        do { sig = try MinisignSignature(fileText: String(decoding: bytes, as: UTF8.self), path: "signature of \(artifact.short)") } catch {
            throw error.glossa("Cannot store a signature of \(artifact.short)")
        }
        if !FileManager.default.fileExists(atPath: url.path) {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try AtomicFileWriter.write(bytes, to: url.path)
            } catch { throw GlossaError(.failure, "Cannot write signature \(url.path): \(error)") }
        }
        return ArtifactSignature(artifact: artifact, signature: sig, bytes: bytes, path: url)
    }

    /// Signs the manifest of the artifact `ref` with the secret key at `keyPath` and stores
    /// the signature. The trusted comment names the artifact, so a copy of the signature
    /// shown alone still says what it covers.
    public func sign(_ ref: String, keyPath: String) throws(GlossaError) -> ArtifactSignature {
        let key = try Signing.secretKey(keyPath)
        let digest = try resolve(ref)
        let bytes = try manifestBytes(digest)
        let m = try manifest(digest)
        let label = m.name.map { "\($0):\(m.version ?? "?")" } ?? m.kind.rawValue
        let comment = "timestamp:\(Int(Date().timeIntervalSince1970))\tartifact:\(digest)\tname:\(label)\thashed"
        let sig: MinisignSignature
        do { sig = try MinisignSignature.sign(bytes, with: key, trustedComment: comment) } catch {
            throw GlossaError(.failure, "Cannot sign \(ref) (\(digest.short)): \(error)")
        }
        return try addSignature(Data(sig.fileText.utf8), to: digest)
    }

    /// The manifest bytes a signature covers (re-checked against the digest by the store).
    public func manifestBytes(_ digest: Digest) throws(GlossaError) -> [UInt8] {
        do { return try store.blob(digest) } catch { throw Self.wrap(error, "Cannot read manifest \(digest.short)") }
    }

    /// Checks the stored signatures of `ref` with the public key at `publicKeyPath`:
    /// good when one made with that key verifies over the manifest bytes.
    public func verifySignature(of ref: String, publicKeyPath: String) throws(GlossaError) -> SignatureCheck {
        let pub = try Signing.publicKey(publicKeyPath)
        let digest = try resolve(ref)
        let found = try signatures(of: digest).map(\.signature)
        let sig = try Self.check(found, over: try manifestBytes(digest), with: pub, publicKeyPath: publicKeyPath,
                                 subject: "\(ref) (\(digest.short))", howToSign: "glossa sign \(ref) --key NAME.key",
                                 consequence: "")
        return SignatureCheck(artifact: digest, keyID: sig.keyIDText, trustedComment: sig.trustedComment)
    }

    /// The one rule for trusting an artifact: among `signatures`, one made by `key` must
    /// verify over `manifest`. The refusal says which case it is: unsigned; signed only by
    /// other keys (listed); or signed by this key but not matching (the manifest or the
    /// signature was altered). `consequence` ("; nothing was imported") ends each message.
    static func check(_ signatures: [MinisignSignature], over manifest: [UInt8], with key: MinisignPublicKey,
                      publicKeyPath: String, subject: String, howToSign: String,
                      consequence: String) throws(GlossaError) -> MinisignSignature {
        guard !signatures.isEmpty else {
            throw GlossaError(.invalidInput, "\(subject) is not signed, and the key \(publicKeyPath) requires a signature by key "
                              + "\(key.keyIDText)\(consequence). Ask its publisher to sign it (`\(howToSign)`) and push it again")
        }
        let mine = signatures.filter { $0.keyID == key.keyID }
        guard !mine.isEmpty else {
            let others = Set(signatures.map(\.keyIDText)).sorted().joined(separator: ", ")
            throw GlossaError(.invalidInput, "\(subject) is signed only by key \(others), not by key \(key.keyIDText) (\(publicKeyPath))"
                              + "\(consequence). Check that you hold the publisher's public key")
        }
        var last: SignatureError?
        for s in mine {
            do { try s.verify(manifest, with: key, subject: subject); return s } catch { last = error }
        }
        let why: String
        switch last {
        case .contentMismatch?: why = "it does not match the manifest, so the artifact or the signature was altered after signing"
        case .trustedCommentMismatch?: why = "its trusted comment was altered after signing"
        case let other?: why = other.description
        case nil: why = "no signature by that key"
        }
        throw GlossaError(.invalidInput, "The signature of \(subject) by key \(key.keyIDText) does not verify: \(why)"
                          + "\(consequence). Do not use this artifact; ask its publisher to push it again")
    }
}

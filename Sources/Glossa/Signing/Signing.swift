import DurableFiles
import Foundation
import TensorIO

/// Key files and detached signatures on disk, in minisign's formats (see `MinisignKeys.swift`).
public enum Signing {
    /// Writes `<out>.key` (unencrypted, mode 0600) and `<out>.pub`. Refuses to overwrite
    /// either unless `force`: a lost secret key cannot be recovered.
    public static func generateKeyPair(out: String, force: Bool) throws(GlossaError) -> (secret: URL, public: URL, key: MinisignPublicKey) {
        let secretURL = URL(fileURLWithPath: out + ".key"), publicURL = URL(fileURLWithPath: out + ".pub")
        for u in [secretURL, publicURL] where !force && FileManager.default.fileExists(atPath: u.path) {
            throw GlossaError(.invalidInput, "\(u.path) already exists; choose another --out NAME, or pass --force to replace the key pair")
        }
        let key = MinisignSecretKey.generate()
        do {
            try AtomicFileWriter.write(Data(key.fileText.utf8), to: secretURL.path, mode: 0o600)
            try AtomicFileWriter.write(Data(key.publicKey.fileText.utf8), to: publicURL.path)
        } catch { throw GlossaError(.failure, "Cannot write the key pair \(out).key/.pub: \(error)") }
        return (secretURL, publicURL, key.publicKey)
    }

    public static func secretKey(_ path: String) throws(GlossaError) -> MinisignSecretKey {
        do { return try MinisignSecretKey(file: URL(fileURLWithPath: path)) } catch { throw error.glossa("Cannot use secret key \(path)") }
    }

    public static func publicKey(_ path: String) throws(GlossaError) -> MinisignPublicKey {
        do { return try MinisignPublicKey(file: URL(fileURLWithPath: path)) } catch { throw error.glossa("Cannot use public key \(path)") }
    }

    /// Signs the file at `path` ("ED": BLAKE2b-512 prehash) and writes `<path>.minisig`.
    public static func sign(file path: String, keyPath: String) throws(GlossaError) -> (signature: URL, signed: MinisignSignature) {
        let key = try secretKey(keyPath)
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw GlossaError(.notFound, "Cannot sign \(path): no such file")
        }
        guard !isDir.boolValue else {
            throw GlossaError(.invalidInput, "Cannot sign \(path): it is a folder and not a bundle; sign a file or a bundle")
        }
        let sig: MinisignSignature
        do {
            let comment = MinisignSignature.defaultTrustedComment(fileName: url.lastPathComponent)
            sig = try MinisignSignature.sign(file: url, with: key, trustedComment: comment)
        } catch { throw GlossaError(.failure, "Cannot sign \(path): \(error)") }
        let out = path + ".minisig"
        do { try AtomicFileWriter.write(Data(sig.fileText.utf8), to: out) } catch {
            throw GlossaError(.failure, "Cannot write \(out): \(error)")
        }
        return (URL(fileURLWithPath: out), sig)
    }

    /// Verifies `<path>.minisig` (or `signaturePath`) over the file at `path` with the public key file.
    public static func verify(file path: String, publicKeyPath: String,
                              signaturePath: String? = nil) throws(GlossaError) -> MinisignSignature {
        let pub = try publicKey(publicKeyPath)
        let sigPath = signaturePath ?? path + ".minisig"
        guard FileManager.default.fileExists(atPath: path) else { throw GlossaError(.notFound, "Cannot verify \(path): no such file") }
        guard FileManager.default.fileExists(atPath: sigPath) else {
            throw GlossaError(.notFound, "Cannot verify \(path): no signature at \(sigPath); sign with `glossa sign \(path) --key NAME.key`")
        }
        do {
            let sig = try MinisignSignature(file: URL(fileURLWithPath: sigPath))
            try sig.verify(file: URL(fileURLWithPath: path), with: pub)
            return sig
        } catch { throw error.glossa("Signature check of \(path) failed") }
    }
}

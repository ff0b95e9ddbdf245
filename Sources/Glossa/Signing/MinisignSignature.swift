import Crypto
import Foundation

/// A minisign signature file (`.minisig`), byte-compatible with `minisign -S` / `-V`:
///
///     untrusted comment: <text>
///     base64( algorithm [2] | key id [8] | Ed25519 signature [64] )
///     trusted comment: <text>
///     base64( Ed25519 signature [64] of (signature [64] | trusted comment bytes) )
///
/// Algorithm "ED" (what glossa writes, minisign's default) signs BLAKE2b-512 of the content;
/// legacy "Ed" signs the raw content. The second signature binds the trusted comment, so
/// it cannot be edited without the secret key.
public struct MinisignSignature: Sendable, Equatable {
    public var prehashed: Bool
    public var keyID: [UInt8]
    public var signature: [UInt8]
    public var untrustedComment: String
    public var trustedComment: String
    public var globalSignature: [UInt8]

    public var keyIDText: String { Minisign.keyIDText(keyID) }

    /// Signs `content` (already in memory) with an "ED" signature.
    public static func sign(_ content: some DataProtocol, with key: MinisignSecretKey, trustedComment: String) throws -> MinisignSignature {
        try sign(prehash: Blake2b.hash(content, outputBytes: 64), with: key, trustedComment: trustedComment)
    }

    /// Signs a file of any size (hashed in pieces) with an "ED" signature.
    public static func sign(file: URL, with key: MinisignSecretKey, trustedComment: String) throws -> MinisignSignature {
        try sign(prehash: try Blake2b.hash512(file: file), with: key, trustedComment: trustedComment)
    }

    static func sign(prehash: [UInt8], with key: MinisignSecretKey, trustedComment: String) throws -> MinisignSignature {
        let sig = Array(try key.key.signature(for: prehash))
        let global = Array(try key.key.signature(for: sig + Array(trustedComment.utf8)))
        return MinisignSignature(prehashed: true, keyID: key.keyID, signature: sig,
                                 untrustedComment: "signature from glossa secret key \(key.publicKey.keyIDText)",
                                 trustedComment: trustedComment, globalSignature: global)
    }

    /// The trusted comment glossa writes: minisign's own layout.
    public static func defaultTrustedComment(fileName: String, date: Date = Date()) -> String {
        "timestamp:\(Int(date.timeIntervalSince1970))\tfile:\(fileName)\thashed"
    }

    /// Checks the signature of `content` with `publicKey`; `subject` names the content in errors.
    public func verify(_ content: some DataProtocol, with publicKey: MinisignPublicKey, subject: String) throws(SignatureError) {
        try verify(message: prehashed ? Blake2b.hash(content, outputBytes: 64) : Array(content), with: publicKey, subject: subject)
    }

    /// Checks the signature of the file at `url` (hashed in pieces when prehashed).
    public func verify(file url: URL, with publicKey: MinisignPublicKey) throws(SignatureError) {
        let message: [UInt8]
        do {
            message = prehashed ? try Blake2b.hash512(file: url) : Array(try Data(contentsOf: url, options: .alwaysMapped))
        } catch { throw .malformed(path: url.path, reason: "cannot read the signed file: \(error.localizedDescription)") }
        try verify(message: message, with: publicKey, subject: url.path)
    }

    private func verify(message: [UInt8], with publicKey: MinisignPublicKey, subject: String) throws(SignatureError) {
        guard keyID == publicKey.keyID else { throw .wrongKey(signatureKeyID: keyIDText, publicKeyID: publicKey.keyIDText) }
        guard publicKey.key.isValidSignature(signature, for: message) else { throw .contentMismatch(subject: subject) }
        guard publicKey.key.isValidSignature(globalSignature, for: signature + Array(trustedComment.utf8)) else {
            throw .trustedCommentMismatch(subject: subject)
        }
    }

    /// Parses `.minisig` text; `path` names it in errors.
    public init(fileText: String, path: String) throws(SignatureError) {
        let l = Minisign.lines(fileText)
        guard l.count >= 4, l[0].hasPrefix(Minisign.untrustedPrefix) else {
            throw .malformed(path: path, reason: "expected 4 lines starting with '\(Minisign.untrustedPrefix)'")
        }
        guard l[2].hasPrefix(Minisign.trustedPrefix) else {
            throw .malformed(path: path, reason: "line 3 must start with '\(Minisign.trustedPrefix)'")
        }
        let raw = try Minisign.decode(l[1], path: path, expectedBytes: 74, what: "line 2")
        switch Array(raw[0 ..< 2]) {
        case Minisign.algorithmPrehashed: prehashed = true
        case Minisign.algorithmLegacy: prehashed = false
        default:
            throw .malformed(path: path, reason: "unknown signature algorithm '\(Minisign.printable(raw[0 ..< 2]))' (expected ED or Ed)")
        }
        keyID = Array(raw[2 ..< 10])
        signature = Array(raw[10 ..< 74])
        untrustedComment = String(l[0].dropFirst(Minisign.untrustedPrefix.count))
        trustedComment = String(l[2].dropFirst(Minisign.trustedPrefix.count))
        globalSignature = try Minisign.decode(l[3], path: path, expectedBytes: 64, what: "line 4")
    }

    public init(file: URL) throws(SignatureError) {
        try self.init(fileText: try Minisign.readText(file), path: file.path)
    }

    init(prehashed: Bool, keyID: [UInt8], signature: [UInt8], untrustedComment: String, trustedComment: String, globalSignature: [UInt8]) {
        self.prehashed = prehashed; self.keyID = keyID; self.signature = signature
        self.untrustedComment = untrustedComment; self.trustedComment = trustedComment; self.globalSignature = globalSignature
    }

    /// The `.minisig` file contents.
    public var fileText: String {
        let alg = prehashed ? Minisign.algorithmPrehashed : Minisign.algorithmLegacy
        return Minisign.untrustedPrefix + untrustedComment + "\n" + Data(alg + keyID + signature).base64EncodedString() + "\n"
            + Minisign.trustedPrefix + trustedComment + "\n" + Data(globalSignature).base64EncodedString() + "\n"
    }
}

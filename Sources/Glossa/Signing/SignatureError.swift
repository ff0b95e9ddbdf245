/// Why a key or signature was refused. Each case says what failed and how to fix it; the
/// facade wraps it once into a `GlossaError` (`SignatureError.glossa`).
public enum SignatureError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A key or signature file is not in minisign's format.
    case malformed(path: String, reason: String)
    /// A minisign secret key encrypted with a password (scrypt); Glossa reads unencrypted keys only.
    case encryptedSecretKey(path: String)
    /// The signature names another key than the public key given.
    case wrongKey(signatureKeyID: String, publicKeyID: String)
    /// Ed25519 over the signed bytes failed: the content changed or the signature is not for it.
    case contentMismatch(subject: String)
    /// The trusted comment (or its signature) was altered.
    case trustedCommentMismatch(subject: String)
    /// A key is required but the artifact carries no signature.
    case unsigned(subject: String)

    public var description: String {
        switch self {
        case let .malformed(path, reason):
            return "\(path) is not a minisign key or signature file: \(reason)"
        case let .encryptedSecretKey(path):
            return "\(path) is a password-encrypted minisign secret key, which glossa does not read; "
                + "make an unencrypted key with `glossa key generate --out NAME` or `minisign -G -W`"
        case let .wrongKey(sig, pub):
            return "the signature was made with key \(sig), but the public key given is \(pub); verify with the matching .pub file"
        case let .contentMismatch(subject):
            return "the signature does not match \(subject): its content changed after signing, or the signature belongs to other content"
        case let .trustedCommentMismatch(subject):
            return "the trusted comment of the signature of \(subject) was altered (its global signature does not verify)"
        case let .unsigned(subject):
            return "\(subject) is not signed, but a public key was given; sign it with `glossa sign` or `glossa export --sign`"
        }
    }

    /// The facade error for this failure, with `context` (what was being checked) in front.
    func glossa(_ context: String) -> GlossaError {
        switch self {
        case .malformed, .encryptedSecretKey, .wrongKey, .contentMismatch, .trustedCommentMismatch, .unsigned:
            return GlossaError(.invalidInput, "\(context): \(description)")
        }
    }
}

import Crypto
import Foundation

/// minisign's key files, written and read byte-compatibly with Debian's `minisign` 0.11.
///
/// Each file is two lines: `untrusted comment: <text>` and the base64 of a binary record.
///
///     public key  (42 bytes)   "Ed" | key id [8] | Ed25519 public key [32]
///     secret key (158 bytes)   "Ed" | kdf "Sc" or 00 00 | "B2" | salt [32] | opslimit u64 LE |
///                              memlimit u64 LE | key id [8] | secret key [64] = seed [32] + public [32] |
///                              checksum [32] = BLAKE2b-256("Ed" | key id | secret key)
///
/// The key id is 8 random bytes; minisign shows it as a little-endian u64 in upper-case hex.
/// Glossa writes unencrypted secret keys (kdf 00 00, salt and limits zero, as `minisign -G -W`)
/// with file mode 0600, and refuses scrypt-encrypted ones with a clear message: a CLI that
/// runs in CI has no one to type a password. minisign 0.11's `-W` writes an all-zero checksum;
/// both that and a real checksum are accepted.
public struct MinisignPublicKey: Sendable, Equatable {
    public let keyID: [UInt8]
    /// The 32-byte Ed25519 public key (kept as bytes: swift-crypto's key type is not Sendable).
    public let keyBytes: [UInt8]
    var key: Curve25519.Signing.PublicKey { try! Curve25519.Signing.PublicKey(rawRepresentation: keyBytes) }   // checked in init

    init(keyID: [UInt8], key: Curve25519.Signing.PublicKey) { self.keyID = keyID; self.keyBytes = Array(key.rawRepresentation) }

    /// Parses a `.pub` file's text; `path` names it in errors.
    public init(fileText: String, path: String) throws(SignatureError) {
        let raw = try Minisign.payload(fileText, path: path, expectedBytes: 42)
        guard raw[0 ..< 2] == Minisign.algorithmLegacy[...] else {
            throw .malformed(path: path, reason: "signature algorithm is '\(Minisign.printable(raw[0 ..< 2]))', expected 'Ed'")
        }
        keyID = Array(raw[2 ..< 10])
        guard (try? Curve25519.Signing.PublicKey(rawRepresentation: raw[10 ..< 42])) != nil else {
            throw .malformed(path: path, reason: "not an Ed25519 public key")
        }
        keyBytes = Array(raw[10 ..< 42])
    }

    public init(file: URL) throws(SignatureError) {
        try self.init(fileText: try Minisign.readText(file), path: file.path)
    }

    /// The key id as minisign prints it (e.g. `5B92B17B102B0804`).
    public var keyIDText: String { Minisign.keyIDText(keyID) }

    /// The `.pub` file contents.
    public var fileText: String {
        "untrusted comment: minisign public key \(keyIDText)\n"
            + Data(Minisign.algorithmLegacy + keyID + keyBytes).base64EncodedString() + "\n"
    }
}

/// An Ed25519 signing key with its minisign key id.
public struct MinisignSecretKey: Sendable {
    public let keyID: [UInt8]
    /// The 32-byte Ed25519 seed (kept as bytes: swift-crypto's key type is not Sendable).
    private let seed: [UInt8]
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: seed) }   // checked in init

    public var publicKey: MinisignPublicKey { MinisignPublicKey(keyID: keyID, key: key.publicKey) }

    /// A fresh key pair with a random key id.
    public static func generate() -> MinisignSecretKey {
        var rng = SystemRandomNumberGenerator()
        return MinisignSecretKey(keyID: (0 ..< 8).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }, key: .init())
    }

    init(keyID: [UInt8], key: Curve25519.Signing.PrivateKey) { self.keyID = keyID; self.seed = Array(key.rawRepresentation) }

    /// Parses a `.key` file's text; `path` names it in errors.
    public init(fileText: String, path: String) throws(SignatureError) {
        let raw = try Minisign.payload(fileText, path: path, expectedBytes: 158)
        guard raw[0 ..< 2] == Minisign.algorithmLegacy[...] else {
            throw .malformed(path: path, reason: "signature algorithm is '\(Minisign.printable(raw[0 ..< 2]))', expected 'Ed'")
        }
        if raw[2 ..< 4] == [0x53, 0x63][...] { throw .encryptedSecretKey(path: path) }   // "Sc": scrypt
        guard raw[2 ..< 4] == [0, 0][...] else {
            throw .malformed(path: path, reason: "unknown key derivation '\(Minisign.printable(raw[2 ..< 4]))'")
        }
        guard raw[4 ..< 6] == Minisign.checksumAlgorithm[...] else {
            throw .malformed(path: path, reason: "checksum algorithm is not 'B2'")
        }
        let id = Array(raw[54 ..< 62]), secret = Array(raw[62 ..< 126]), checksum = Array(raw[126 ..< 158])
        if checksum != [UInt8](repeating: 0, count: 32) && checksum != Self.checksum(keyID: id, secret: secret) {
            throw .malformed(path: path, reason: "checksum does not match: the key file is damaged")
        }
        let seed = secret[0 ..< 32], pub = secret[32 ..< 64]
        guard let k = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed), Array(k.publicKey.rawRepresentation) == Array(pub) else {
            throw .malformed(path: path, reason: "the secret key does not match its public half: the key file is damaged")
        }
        keyID = id
        self.seed = Array(k.rawRepresentation)
    }

    public init(file: URL) throws(SignatureError) {
        try self.init(fileText: try Minisign.readText(file), path: file.path)
    }

    /// The unencrypted `.key` file contents (write it with mode 0600).
    public var fileText: String {
        let secret = Array(key.rawRepresentation) + Array(key.publicKey.rawRepresentation)   // libsodium layout: seed | public
        var raw = Minisign.algorithmLegacy + [0, 0] + Minisign.checksumAlgorithm
        raw += [UInt8](repeating: 0, count: 32 + 8 + 8)                                         // salt, opslimit, memlimit: unused
        raw += keyID + secret + Self.checksum(keyID: keyID, secret: secret)
        return "untrusted comment: minisign secret key \(Minisign.keyIDText(keyID)) (unencrypted, written by glossa)\n"
            + Data(raw).base64EncodedString() + "\n"
    }

    static func checksum(keyID: [UInt8], secret: [UInt8]) -> [UInt8] {
        Blake2b.hash(Minisign.algorithmLegacy + keyID + secret, outputBytes: 32)
    }
}

/// Shared pieces of minisign's text formats.
enum Minisign {
    /// "Ed": Ed25519 over the raw message (legacy signatures, and the key algorithm).
    static let algorithmLegacy: [UInt8] = [0x45, 0x64]
    /// "ED": Ed25519 over BLAKE2b-512 of the message (minisign's default signature).
    static let algorithmPrehashed: [UInt8] = [0x45, 0x44]
    /// "B2": BLAKE2b checksum of secret keys.
    static let checksumAlgorithm: [UInt8] = [0x42, 0x32]
    static let untrustedPrefix = "untrusted comment: "
    static let trustedPrefix = "trusted comment: "

    static func keyIDText(_ id: [UInt8]) -> String { id.reversed().map { String(format: "%02X", $0) }.joined() }

    static func printable(_ b: ArraySlice<UInt8>) -> String {
        b.map { (0x20 ..< 0x7F).contains($0) ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined()
    }

    static func readText(_ file: URL) throws(SignatureError) -> String {
        guard let d = FileManager.default.contents(atPath: file.path) else {
            throw .malformed(path: file.path, reason: "cannot read the file (does it exist?)")
        }
        return String(decoding: d, as: UTF8.self)
    }

    /// Lines of a key or signature file, without line ends (`\n` or `\r\n`).
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
    }

    /// Decodes base64 `line` that must hold exactly `expectedBytes` bytes.
    static func decode(_ line: String, path: String, expectedBytes: Int, what: String) throws(SignatureError) -> [UInt8] {
        guard let d = Data(base64Encoded: line.trimmingCharacters(in: .whitespaces)) else {
            throw .malformed(path: path, reason: "\(what) is not base64")
        }
        guard d.count == expectedBytes else {
            throw .malformed(path: path, reason: "\(what) holds \(d.count) bytes, expected \(expectedBytes)")
        }
        return Array(d)
    }

    /// The record of a two-line key file.
    static func payload(_ text: String, path: String, expectedBytes: Int) throws(SignatureError) -> [UInt8] {
        let l = lines(text)
        guard l.count >= 2, l[0].hasPrefix(untrustedPrefix) else {
            throw .malformed(path: path, reason: "the first line must start with '\(untrustedPrefix)'")
        }
        return try decode(l[1], path: path, expectedBytes: expectedBytes, what: "line 2")
    }
}

import ArgumentParser
import Foundation
import Glossa

struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make and check minisign-compatible Ed25519 signing keys.",
        subcommands: [Generate.self, VerifyFile.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an Ed25519 key pair NAME.key / NAME.pub in minisign's file formats.",
            discussion: """
            NAME.key is an UNENCRYPTED secret key (like `minisign -G -W`), written with file mode 0600: keep it private, e.g. \
            in a CI secret. glossa does not write password-encrypted keys because it must sign without anyone typing a \
            password. NAME.pub is what users verify with, here (`glossa bundle verify --key`) or with Debian's minisign.

            Examples:
              glossa key generate --out release
              glossa sign model.bin --key release.key
              minisign -V -p release.pub -m model.bin
            """)
        @Option(name: .long, help: ArgumentHelp("Writes NAME.key and NAME.pub.", valueName: "NAME")) var out: String
        @Flag(name: .long, help: "Replace an existing key pair (the old secret key is lost).") var force = false
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            try reporting {
                let (secret, pub, key) = try Signing.generateKeyPair(out: out, force: force)
                if json { try Console(json: true).emit(["secret_key": secret.path, "public_key": pub.path, "key_id": key.keyIDText]) }
                else { print("key \(key.keyIDText)\tsecret \(secret.path) (unencrypted, mode 0600)\tpublic \(pub.path)") }
            }
        }
    }

    struct VerifyFile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a minisign signature of a file (FILE.minisig) or of a registry artifact with a public key.",
            discussion: """
            Accepts signatures made by glossa or by minisign (prehashed "ED" and legacy "Ed"). Exits 0 when the signature is \
            good, 65 when it is not (wrong key, file or trusted comment changed), 66 when a file is missing.

            For a registry REF (a bare name the registry has), the signatures stored with the artifact (`glossa sign REF`, \
            `glossa pull`) are checked over its manifest: one made with the key must verify.

            Examples:
              glossa key verify fr-expert:1.0.0 --key release.pub
              glossa key verify model.bin --key release.pub
              glossa key verify model.bin --key release.pub --signature m.minisig
            """)
        @Argument(help: "The signed file, or a registry REF.") var file: String
        @Option(name: .long, help: ArgumentHelp("Public key file (minisign .pub).", valueName: "PUB")) var key: String
        @Option(name: .long, help: ArgumentHelp("Signature file. Default: FILE.minisig.", valueName: "SIG")) var signature: String?
        @Flag(name: .long, help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            try reporting {
                if signature == nil, let reg = registryArtifact(file, in: registry.path) {
                    let c = try reg.verifySignature(of: file, publicKeyPath: key)
                    if json { try Console(json: true).emit(["ref": file, "artifact": c.artifact.description, "key_id": c.keyID,
                                                            "trusted_comment": c.trustedComment, "status": "good"]) }
                    else { print("good signature of \(file) (\(c.artifact)) by key \(c.keyID)\ttrusted comment: \(c.trustedComment)") }
                    return
                }
                let sig = try Signing.verify(file: file, publicKeyPath: key, signaturePath: signature)
                if json { try Console(json: true).emit(["file": file, "key_id": sig.keyIDText, "trusted_comment": sig.trustedComment, "status": "good"]) }
                else { print("good signature of \(file) by key \(sig.keyIDText)\ttrusted comment: \(sig.trustedComment)") }
            }
        }
    }
}

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign a registry artifact, a file (writes FILE.minisig) or a bundle folder (embeds the signature).",
        discussion: """
        Signatures are minisign's prehashed "ED" kind: Ed25519 over BLAKE2b-512 of the bytes, plus a signed trusted comment. \
        For a file, FILE.minisig verifies with `minisign -V -p NAME.pub -m FILE`. For a bundle folder, the signature covers \
        the bundle manifest, which pins every blob by digest; it is stored in the bundle as one more OCI layer (see `glossa \
        bundle verify`).

        For a registry REF, the signature covers the artifact's manifest, whose digest is the artifact's identity and which \
        pins every blob and every artifact it builds on; it is stored in the registry (signatures/) and `glossa push` attaches \
        it to the pushed manifest as an OCI referrer, so `glossa pull --verify-key PUB` can check it. A bare name is a REF \
        when the registry has it; a path (with / or a leading .) is always a file.

        Examples:
          glossa sign fr-expert:1.0.0 --key release.key
          glossa sign weights.tar --key release.key
          glossa sign out/fr-bundle --key release.key
        """)
    @Argument(help: "Registry REF, file or bundle folder to sign.") var path: String
    @Option(name: .long, help: ArgumentHelp("Secret key (minisign .key, unencrypted).", valueName: "KEYFILE")) var key: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        try reporting {
            if let reg = registryArtifact(path, in: registry.path) {
                let s = try reg.sign(path, keyPath: key)
                if json { try Console(json: true).emit(["ref": path, "artifact": s.artifact.description, "key_id": s.signature.keyIDText,
                                                        "signature": s.path.path]) }
                else { print("signed \(path) (\(s.artifact)) with key \(s.signature.keyIDText)\t\(s.path.path)") }
                return
            }
            if !FileManager.default.fileExists(atPath: path) && !ModelSourceResolver.looksLikePath(path) {
                throw GlossaError(.notFound, "Cannot sign '\(path)': there is no such file, and registry \(registry.path.path) has no "
                                  + "artifact of that name; see `glossa list`")
            }
            if BundleLayout.isBundle(path) && !path.hasSuffix(".tar") {
                let r = try Bundles.sign(path: path, keyPath: key)
                if json { try Console(json: true).emit(["bundle": path, "key_id": r.keyID, "digest": r.manifestDigest]) }
                else { print("signed bundle \(path) (manifest \(r.manifestDigest)) with key \(r.keyID)") }
                return
            }
            let (out, sig) = try Signing.sign(file: path, keyPath: key)
            if json { try Console(json: true).emit(["file": path, "signature": out.path, "key_id": sig.keyIDText]) }
            else { print("\(out.path)\tkey \(sig.keyIDText)") }
        }
    }

}

/// The registry at `root`, when `text` is a bare name it resolves (REF first, as --model
/// does); nil for paths, and without creating a registry folder that is not there.
func registryArtifact(_ text: String, in root: URL) -> Registry? {
    guard !ModelSourceResolver.looksLikePath(text), FileManager.default.fileExists(atPath: root.path),
          let reg = try? Registry(root: root), (try? reg.resolve(text)) != nil else { return nil }
    return reg
}

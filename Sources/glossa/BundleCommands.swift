import ArgumentParser
import Foundation
import Glossa

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Verify and inspect exported bundles (folders or .tar); no registry needed.",
        subcommands: [VerifyBundle.self, Inspect.self])

    struct VerifyBundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check every blob digest, the manifest schema and the signature of a bundle.",
            discussion: """
            Every blob is re-hashed and compared with its digest; the bundle manifest is validated against its schema; with \
            --key the embedded minisign signature of the manifest must verify (an unsigned bundle then fails). Exits 0 when \
            clean and 4 when damaged, naming each bad blob and what it holds.

            Examples:
              glossa bundle verify out/fr-bundle
              glossa bundle verify out/fr-bundle.tar --key release.pub --json
            """)
        @Argument(help: "Bundle folder or .tar.") var path: String
        @Option(name: .long, help: ArgumentHelp("Public key (minisign .pub) the signature must verify with.", valueName: "PUB")) var key: String?
        @Flag(name: .long, help: "Print the report as JSON.") var json = false

        func run() throws {
            let report = try reporting {
                let bar = ProgressBar(total: 1, label: "verify")
                defer { bar.finish() }
                return try Bundles.verify(path: path, keyPath: key) { bar.updateTotal($0, $1) }
            }
            if json { try Console(json: true).emit(report) } else {
                print("\(report.status)\t\(report.path)\t\(report.digest ?? "-")\t\(report.blobsChecked) blobs\tsignature: \(report.signature)")
                for p in report.problems { print("  \(p)") }
            }
            if !report.isClean { throw GlossaExit.damaged }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a bundle's languages, routing, sizes, lineage and signature.",
            discussion: """
            Reads the manifests only (fast); `glossa bundle verify` checks the content.

            Examples:
              glossa bundle inspect out/fr-bundle
              glossa bundle inspect out/de-fr.tar --json
            """)
        @Argument(help: "Bundle folder or .tar.") var path: String
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            try reporting {
                let i = try Bundles.inspect(path: path)
                if json { try Console(json: true).emit(i); return }
                print("bundle     \(i.name):\(i.version)  \(i.digest)")
                print("oci        \(i.ociDigest)")
                print("created    \(i.created)")
                print("languages  \(i.languages.joined(separator: ", "))")
                print("routing    \(i.routing)" + (i.routes.isEmpty ? "" : "  " + i.routes.sorted { $0.key < $1.key }.map { "\($0.key)->\($0.value)" }.joined(separator: " ")))
                print("base       \(i.base)  \(i.baseTensors) tensors \(i.baseDTypes.joined(separator: "/"))  \(mb(i.baseBytes))")
                for a in i.adapters {
                    let lineage = a.lineage.map { "\($0.relation) \($0.target.short)" }.joined(separator: ", ")
                    print("adapter    \(a.kind)\(a.role == "expert" ? "" : " " + a.role) \(a.name):\(a.version) [\(a.languages.joined(separator: ","))] r\(a.rank) "
                          + "\(a.modules) modules \(mb(a.bytes))" + (a.recipe.map { " recipe \($0)" } ?? "") + "  \(a.digest.prefix(19))  (\(lineage))")
                }
                print("size       \(mb(i.totalBytes))")
                print("signature  " + (i.signature.map { "key \($0.keyID)  trusted comment: \($0.trustedComment)" } ?? "unsigned"))
            }
        }

        func mb(_ b: Int) -> String { String(format: "%.1f MB", Double(b) / 1e6) }
    }
}

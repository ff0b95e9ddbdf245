import ArgumentParser
import Foundation
import Glossa

struct Expert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish LoRA language experts and export them back.",
        subcommands: [ImportPEFT.self, ExportPEFT.self])

    struct ImportPEFT: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-peft",
            abstract: "Publish a PEFT LoRA adapter folder as a language expert.",
            discussion: """
            DIR holds adapter_config.json and adapter_model.safetensors as Python peft writes them for a Whisper model (keys \
            like base_model.model.model.decoder.layers.3.encoder_attn.q_proj.lora_A.weight). The adapter is checked against \
            the base first: a module the base lacks or a shape that does not fit is refused, naming the first mismatch, and \
            nothing is written.

            Example:
              glossa expert import-peft ./fr-adapter --lang fr --name fr-expert \\
                --version 1.0.0
            """)
        @Argument(help: "PEFT adapter folder.") var dir: String
        @Option(name: .long, help: "Whisper language code of the expert (de, fr, ...); several comma-separated for a multilingual adapter.") var lang: String
        @Option(name: .long, help: "Expert name (lowercase letters, digits, . _ -).") var name: String
        @Option(name: .long, help: "Semantic version, e.g. 1.0.0.") var version: String
        @Option(name: .long, help: ArgumentHelp("Base model REF. Default: the registry's only base.", valueName: "REF")) var base: String?
        @Option(name: .long, help: ArgumentHelp("""
            License (SPDX id). Default: the `license:` of the adapter's README.md front matter (as the \
            Hugging Face Hub writes it), else NOASSERTION (unknown, as SPDX says).
            """, valueName: "SPDX"))
        var license: String?
        @Option(name: .long, help: "Free-text description.") var description = ""
        @Flag(name: .long, help: "Print the result as JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            try reporting {
                let reg = try Registry(root: registry.path, create: true)
                let (d, m) = try reg.importPEFT(folder: URL(fileURLWithPath: dir),
                                                languages: lang.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, name: name, version: version,
                                                base: base, license: license, description: description)
                if json { try Console(json: true).emit(["digest": d.description, "name": m.name, "version": m.version, "language": m.language]) }
                else { print("\(m.name):\(m.version)\t\(m.language)\t\(d)") }
            }
        }
    }

    struct ExportPEFT: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-peft",
            abstract: "Write an expert as a PEFT adapter folder (loads in Python peft).",
            discussion: "Tensors are written bit-identical to what was imported; adapter_config.json keeps the original's other fields.")
        @Argument(help: "Expert REF.") var ref: String
        @Argument(help: "Output folder.") var dir: String
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            try reporting {
                try Registry(root: registry.path).exportPEFT(ref, to: URL(fileURLWithPath: dir))
                print(dir)
            }
        }
    }
}

import ArgumentParser
import Foundation
import Glossa

@main
struct GlossaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glossa",
        abstract: "Publish, compose and ship LoRA language experts for Whisper.",
        usage: "glossa <subcommand>\nglossa --version",
        discussion: """
        A registry of LoRA language experts (one adapter per language on a frozen Whisper), a Whisper runtime to transcribe \
        and evaluate with them, and push/pull to OCI registries.

        The registry is a folder: --registry PATH, else $GLOSSA_REGISTRY, else ./registry. A REF names an artifact: NAME \
        (latest version), NAME:VERSION, NAME:TAG, or a digest sha256:... (a unique prefix is enough).

        Typical session:
          glossa base fetch                              # the real whisper-base
          glossa corpus synth --langs fr,de --out data/  # speech + manifests
          glossa transcribe --model whisper-base clip.wav
          glossa expert import-peft ./my-adapter --lang fr --name fr-expert \\
            --version 1.0.0
          glossa eval --model whisper-base --expert fr-expert --manifest test.jsonl
          glossa compose --experts fr-expert,de-expert --method linear --name mix \\
            --version 1.0.0
          glossa key generate --out release              # minisign key pair
          glossa export fr-expert --out out/fr.tar --sign release.key
          glossa bundle verify out/fr.tar --key release.pub
          glossa transcribe --model out/fr.tar --language fr clip.wav  # no registry

        Results go to stdout (--json for machines); logs and progress go to stderr.

        \(GlossaExit.helpText)
        """,
        subcommands: [
            Base.self, Expert.self, List.self, Show.self, Tag.self, Remove.self, Verify.self, GC.self, Reindex.self,
            Push.self, Pull.self, Train.self, ComposeCommand.self,
            Transcribe.self, Evaluate.self, Corpus.self,
            Export.self, BundleCommand.self, Key.self, Sign.self,
        ])

    /// `glossa --version` prints the version. Not `CommandConfiguration(version:)`:
    /// ArgumentParser then lists "--version  Show the version." in the help of every
    /// subcommand too, beside the `--version <version>` option of train, compose, export,
    /// base import and expert import-peft (issue 11 item 26). Nor a root `@Flag`: a parent's
    /// flags are matched anywhere on the command line, so it would take `train --version`.
    /// So the root answers `--version` as its first argument, before parsing, and nowhere else.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--version" {
            print(GlossaVersion.string)
            return
        }
        await main(arguments)
    }
}
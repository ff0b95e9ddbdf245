import ArgumentParser
import Glossa

@main
struct GlossaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glossa",
        abstract: "Publish, compose and ship LoRA language experts for Whisper.")
}

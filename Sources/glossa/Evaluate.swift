import ArgumentParser
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a model on a JSONL manifest (WER/CER per language).")
}

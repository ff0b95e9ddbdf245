import ArgumentParser
struct Corpus: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Synthesize speech corpora with espeak-ng.")
}

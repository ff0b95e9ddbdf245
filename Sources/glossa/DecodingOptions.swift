import ArgumentParser

/// Options of the decoder shared by `transcribe` and `eval`.
struct DecodingOptions: ParsableArguments {
    @Flag(name: .long, help: ArgumentHelp("""
        Pure greedy or beam search: temperature 0 only, no temperature fallback and no no-speech rule \
        (by default a window whose output loops or is improbable is decoded again at higher temperatures, \
        and one judged silent comes out empty, as in faster-whisper). Use it to compare tokens with peers.
        """))
    var noFallback = false
}

import ArgumentParser

/// Exit codes of every `glossa` command (documented in README.md and `glossa --help`).
///
///     0   success (for `verify`: the store is clean)
///     1   the command failed (the message on stderr says what, where and how to fix)
///     64  usage error: bad flags or arguments (from swift-argument-parser)
///     65  bad input data: malformed safetensors, manifest, audio, adapter that does not fit its base;
///         a signature refused (`pull --verify-key`, `--verify-key` on a bundle, `key verify`)
///     66  not found: unknown reference, missing file or blob
///     69  remote registry unavailable or refused the request
///     75  busy or interrupted: retry (e.g. another process holds a lock)
///     3   `verify`: problems were found and repaired
///     4   `verify` / `bundle verify`: damage remains (corrupt or missing blobs, bad signature); see its report
enum GlossaExit {
    static let failure = ExitCode(1)
    static let usage = ExitCode(64)
    static let dataError = ExitCode(65)
    static let notFound = ExitCode(66)
    static let unavailable = ExitCode(69)
    static let tempFailure = ExitCode(75)
    static let repaired = ExitCode(3)
    static let damaged = ExitCode(4)

    static let helpText = """
    EXIT CODES:
      0   success (verify: clean)       3   verify: repaired
      1   failure                       4   verify, bundle verify: damage remains
      64  usage error                   65  bad input data or signature
      66  not found                     69  remote registry unavailable
      75  busy: retry
    """
}

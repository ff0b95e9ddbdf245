import Foundation

// glossa-fuzz: the parser fuzz targets (issue 11), in one executable with two builds.
//
// Fuzzing build (fuzz/run.sh): compiled with `-sanitize=fuzzer,address -D FUZZING`. SwiftPM
// links `main` to `glossa_fuzz_main`, which hands argv to libFuzzer's driver; the target is
// chosen by the GLOSSA_FUZZ_TARGET environment variable.
//
// Ordinary build (every `swift build`): a replay tool, so the harnesses always compile and
// CI can re-run the seed corpus and any crash file without the sanitizers:
//     glossa-fuzz TARGET FILE-OR-FOLDER...     glossa-fuzz --list
#if FUZZING
private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["GLOSSA_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTargets.named(name) else {
        let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("glossa-fuzz: set GLOSSA_FUZZ_TARGET to one of \(names)\n".utf8))
        exit(64)
    }
    return t
}()

import CFuzzerDriver

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    target.run(data)
    return 0
}

@_cdecl("glossa_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}
#else
@main
enum GlossaFuzz {
    static func main() { Replay.main(Array(CommandLine.arguments.dropFirst())) }
}
#endif

import Foundation

/// Runs inputs through a target without libFuzzer: the seed corpus in CI, a crash file
/// when debugging. Exit 0 when every input returned, 64 on bad usage.
enum Replay {
    static func main(_ args: [String]) -> Never {
        if args == ["--list"] {
            for t in FuzzTargets.all { print("\(t.name)\t\(t.summary)") }
            exit(0)
        }
        guard let name = args.first, let target = FuzzTargets.named(name), args.count > 1 else {
            let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
            FileHandle.standardError.write(Data("usage: glossa-fuzz TARGET FILE-OR-FOLDER... (targets: \(names)); glossa-fuzz --list\n".utf8))
            exit(64)
        }
        var files: [URL] = []
        for path in args.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("glossa-fuzz: \(path) does not exist\n".utf8))
                exit(64)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { URL(fileURLWithPath: path).appendingPathComponent($0) }
            } else {
                files.append(URL(fileURLWithPath: path))
            }
        }
        for file in files {
            guard let data = try? Data(contentsOf: file) else { continue }
            target.run(data)
        }
        print("glossa-fuzz: \(name): \(files.count) inputs replayed, none crashed")
        exit(0)
    }
}

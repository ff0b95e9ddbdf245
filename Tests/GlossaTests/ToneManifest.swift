import Foundation
import Whisper

/// Writes `n` short tone clips per language under `dir/audio` and a JSONL manifest of them
/// (audio relative to it) at `dir/<name>.jsonl`; the first `unlabeled` lines of each
/// language have empty text. Returns the manifest path.
func writeToneManifest(in dir: URL, _ name: String, _ langs: [String], n: Int = 2, unlabeled: Int = 0) throws -> String {
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("audio"), withIntermediateDirectories: true)
    var lines: [String] = []
    for (li, l) in langs.enumerated() {
        for i in 0..<n {
            let id = "\(name)-\(l)-\(i)"
            let f = 220 * Float(1 + li) + 30 * Float(i)
            let samples = (0..<8_000).map { 0.3 * sin(2 * Float.pi * f * Float($0) / 16_000) }
            try WAVWriter.write(path: dir.appendingPathComponent("audio/\(id).wav").path, samples: samples)
            let text = i < unlabeled ? "" : "bonjour \(i)"
            lines.append(#"{"id":"\#(id)","audio":"audio/\#(id).wav","text":"\#(text)","lang":"\#(l)"}"#)
        }
    }
    let path = dir.appendingPathComponent("\(name).jsonl").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

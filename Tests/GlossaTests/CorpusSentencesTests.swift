import Foundation
import XCTest

/// The shipped sentence files meet the corpus rules: at least 150 per language,
/// 4-14 words, no digits, no duplicates, no stray whitespace, valid UTF-8, NFC.
final class CorpusSentencesTests: XCTestCase {
    func testSentenceFiles() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("corpus/sentences")
        let required = ["de", "es", "fr", "it", "nl", "pl", "pt", "ru"]
        for lang in required + ["en"] {
            let url = dir.appendingPathComponent("\(lang).txt")
            let text = try String(contentsOf: url, encoding: .utf8)
            XCTAssertTrue(text.hasSuffix("\n"), "\(lang): ends with a newline")
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            XCTAssertGreaterThanOrEqual(lines.count, 150, lang)
            XCTAssertEqual(Set(lines).count, lines.count, "\(lang): duplicates")
            for (i, line) in lines.enumerated() {
                let words = line.split(whereSeparator: { $0 == " " }).count
                XCTAssertTrue((4...14).contains(words), "\(lang):\(i + 1): \(words) words")
                XCTAssertFalse(line.contains(where: { $0.isNumber }), "\(lang):\(i + 1): digits")
                XCTAssertEqual(line, line.trimmingCharacters(in: .whitespaces), "\(lang):\(i + 1): stray whitespace")
                XCTAssertEqual(Array(line.unicodeScalars), Array(line.precomposedStringWithCanonicalMapping.unicodeScalars),
                               "\(lang):\(i + 1): not NFC")
                XCTAssertTrue(line.last.map { ".!?".contains($0) } ?? false, "\(lang):\(i + 1): ends a sentence")
            }
        }
    }
}

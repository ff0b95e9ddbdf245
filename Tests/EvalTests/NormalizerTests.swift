import XCTest
@testable import Eval

final class NormalizerTests: XCTestCase {
    func testMatchesWhisperBasicTextNormalizer() {
        let plain = BasicTextNormalizer()
        let diacritics = BasicTextNormalizer(removeDiacritics: true)
        for (input, expected, expectedNoDiacritics) in EvalGoldenCases.normaliser {
            XCTAssertEqual(plain(input), expected, "normalise \(input.debugDescription)")
            XCTAssertEqual(diacritics(input), expectedNoDiacritics, "remove diacritics \(input.debugDescription)")
        }
    }

    func testSplitLetters() {
        XCTAssertEqual(BasicTextNormalizer(splitLetters: true)("你好，世界"), "你 好   世 界".replacingOccurrences(of: "   ", with: " "))
    }
}

import Foundation
import XCTest
@testable import Eval

final class ManifestTests: XCTestCase {
    func testRoundTrip() throws {
        let entries = [
            ManifestEntry(id: "fr-0001", audio: "audio/fr-0001.wav", text: "Bonjour « tout » le monde.", lang: "fr"),
            ManifestEntry(id: "de-0001", audio: "audio/de-0001.wav", text: "Grüß Gott!\nZweite Zeile", lang: "de"),
        ]
        let data = Manifest.encode(entries)
        XCTAssertEqual(String(decoding: data, as: UTF8.self).split(separator: "\n").count, 2, "one line per entry")
        XCTAssertEqual(try Manifest.parse(data, source: "m.jsonl"), entries)
        XCTAssertEqual(entries[0].audioPath(manifestPath: "/data/espeak/test.jsonl"), "/data/espeak/audio/fr-0001.wav")
        XCTAssertEqual(entries[0].audioPath(manifestPath: "test.jsonl"), "audio/fr-0001.wav")
    }

    func testErrorsCarryLineNumbers() {
        func expect(_ text: String, _ expected: ManifestError, line: UInt = #line) {
            XCTAssertThrowsError(try Manifest.parse(Data(text.utf8), source: "set.jsonl"), line: line) { error in
                XCTAssertEqual(error as? ManifestError, expected, line: line)
                XCTAssertTrue("\(error)".hasPrefix("set.jsonl"), line: line)
            }
        }
        let ok = #"{"id":"a","audio":"a.wav","text":"x","lang":"fr"}"#
        expect("\(ok)\n\n{\"id\":\"b\",\"audio\":\"b.wav\",\"text\":\"y\"}\n",
               .invalidLine(source: "set.jsonl", line: 3, detail: "missing field 'lang'"))
        expect("\(ok)\nnot json\n", .invalidLine(source: "set.jsonl", line: 2, detail: "not valid JSON"))
        expect("\(ok)\n\(ok)\n", .duplicateID(source: "set.jsonl", line: 2, id: "a", firstLine: 1))
        expect("\n\n", .empty(source: "set.jsonl"))
        XCTAssertThrowsError(try Manifest.parse(Data(#"{"id":"a","audio":"/abs/a.wav","text":"x","lang":"fr"}"#.utf8), source: "s")) {
            guard case .invalidLine(_, 1, let detail) = $0 as? ManifestError else { return XCTFail("\($0)") }
            XCTAssertTrue(detail.contains("absolute"), detail)
        }
        XCTAssertThrowsError(try Manifest.parse(Data(#"{"id":"a","audio":"a.wav","text":"x","lang":"French"}"#.utf8), source: "s"))
        XCTAssertThrowsError(try Manifest.parse(Data(#"{"id":"a","audio":"../a.wav","text":"x","lang":"fr"}"#.utf8), source: "s"))
        XCTAssertThrowsError(try Manifest.parse(Data(#"{"id":"a","audio":"a.wav","text":3,"lang":"fr"}"#.utf8), source: "s"))
    }

    func testCRLFLinesAccepted() throws {
        let text = "{\"id\":\"a\",\"audio\":\"a.wav\",\"text\":\"x\",\"lang\":\"fr\"}\r\n"
        XCTAssertEqual(try Manifest.parse(Data(text.utf8), source: "s").count, 1)
    }

    func testSpeakerIsOptionalKeptAndValidated() throws {
        let text = """
        {"id":"a","audio":"a.wav","text":"x","lang":"fr","speaker":"fr-fr+m3"}
        {"id":"b","audio":"b.wav","text":"y","lang":"fr"}
        {"id":"c","audio":"c.wav","text":"z","lang":"cs","speaker":"level-03","extra":1}
        """
        let entries = try Manifest.parse(Data(text.utf8), source: "s")
        XCTAssertEqual(entries.map(\.speaker), ["fr-fr+m3", nil, "level-03"])
        let encoded = String(decoding: Manifest.encode(entries), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(encoded[0], #"{"audio":"a.wav","id":"a","lang":"fr","speaker":"fr-fr+m3","text":"x"}"#)
        XCTAssertEqual(encoded[1], #"{"audio":"b.wav","id":"b","lang":"fr","text":"y"}"#, "no speaker, no key: older manifests stay byte-identical")
        XCTAssertEqual(try Manifest.parse(Manifest.encode(entries), source: "s"), entries)
        XCTAssertThrowsError(try Manifest.parse(Data(#"{"id":"a","audio":"a.wav","text":"x","lang":"fr","speaker":""}"#.utf8), source: "s")) {
            guard case .invalidLine(_, 1, let detail) = $0 as? ManifestError else { return XCTFail("\($0)") }
            XCTAssertTrue(detail.contains("speaker"), detail)
        }
        XCTAssertThrowsError(try Manifest.parse(Data(#"{"id":"a","audio":"a.wav","text":"x","lang":"fr","speaker":7}"#.utf8), source: "s"))
    }
}

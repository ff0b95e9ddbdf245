import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Eval

final class EvalReportTests: XCTestCase {
    static func sampleReport(name: String = "whisper-base", shift: Int = 0) -> EvalReport {
        var acc = EvalAccumulator()
        acc.add(id: "fr-1", language: "fr", reference: "Le chat dort.", hypothesis: "le chat dors", detectedLanguage: "fr")
        acc.add(id: "fr-2", language: "fr", reference: "Il pleut (beaucoup) ce soir !", hypothesis: "il pleut ce soir", detectedLanguage: "th")
        acc.add(id: "de-1", language: "de", reference: "Guten Morgen, Anna.", hypothesis: shift > 0 ? "guten morgen" : "Guten Morgen Anna", detectedLanguage: "de")
        acc.add(id: "zh-1", language: "zh", reference: "你好，世界！", hypothesis: "你好世界", detectedLanguage: "zh")
        acc.add(id: "nl-1", language: "nl", reference: "De fiets is rood.", hypothesis: "the fiets is root", detectedLanguage: "en")
        return acc.report(model: .init(name: name, digest: "sha256:" + String(repeating: "ab", count: 32)),
                          dataset: "corpus/test.jsonl",
                          settings: .init(mode: "language-agnostic", beamSize: 5, extra: ["threads": "2"]),
                          timing: .init(audioSeconds: 20, processingSeconds: 5),
                          createdAt: "2026-11-28T02:00:00Z", toolVersion: "0.1.0")
    }

    func testAccumulatorScores() {
        let r = Self.sampleReport()
        XCTAssertEqual(r.languages.map(\.language), ["de", "fr", "nl", "zh"])
        let fr = r.languages[1].score
        XCTAssertEqual(fr.utterances, 2)
        XCTAssertEqual(fr.counts, EditCounts(hits: 6, substitutions: 1))  // "dort" -> "dors"; "(beaucoup)" removed
        XCTAssertEqual(fr.errorRate, 1.0 / 7.0, accuracy: 1e-12)
        XCTAssertEqual(fr.lidAccuracy, 0.5)
        XCTAssertEqual(r.languages[3].score.unit, .character)
        XCTAssertEqual(r.languages[3].score.errorRate, 0)
        XCTAssertEqual(r.overall.utterances, 5)
        XCTAssertEqual(r.overall.word, EditCounts(hits: 11, substitutions: 3))
        XCTAssertEqual(r.overall.lidAccuracy, 0.6)
        XCTAssertEqual(r.timing?.rtf, 0.25)
        XCTAssertEqual(r.overall.macroErrorRate, (0 + 1.0 / 7 + 0.5 + 0) / 4, accuracy: 1e-12)
    }

    func testJSONRoundTripAndVersionCheck() throws {
        let r = Self.sampleReport()
        let decoded = try JSONDecoder().decode(EvalReport.self, from: r.jsonData())
        XCTAssertEqual(decoded, r)
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: r.jsonData()) as? [String: Any])
        json["schema_version"] = 99
        XCTAssertThrowsError(try JSONDecoder().decode(EvalReport.self, from: JSONSerialization.data(withJSONObject: json)))
    }

    func testReportValidatesAgainstSchema() throws {
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/eval-report.schema.json").path
        let script = """
        import sys, json, jsonschema
        schema = json.load(open(sys.argv[1] if len(sys.argv) > 1 else \(String(reflecting: schema))))
        reports = json.load(sys.stdin)
        v = jsonschema.Draft202012Validator(schema)
        print(json.dumps([[e.message for e in v.iter_errors(r)] for r in reports]))
        """
        let good = try JSONSerialization.jsonObject(with: Self.sampleReport().jsonData())
        var bad = good as! [String: Any]
        bad["settings"] = ["mode": "sometimes", "beam_size": 0, "normalizer": "x", "extra": [:]]
        let input = try JSONSerialization.data(withJSONObject: [good, bad])
        let out = try PythonPeer.run(script, input: input, needs: ["jsonschema"])
        let errors = try JSONDecoder().decode([[String]].self, from: out)
        XCTAssertEqual(errors[0], [], "a report we write must validate")
        XCTAssertEqual(errors[1].count, 2, "bad mode and beam size must be caught: \(errors[1])")
    }

    func testMarkdownAndSVG() throws {
        let a = Self.sampleReport(name: "whisper-base"), b = Self.sampleReport(name: "base + experts <fuse>", shift: 1)
        let md = ReportRendering.markdown(a)
        XCTAssertTrue(md.contains("| fr | word | 2 | WER 14.3 | 1 | 0 | 0 | 7 | 50.0 |"), md)
        XCTAssertTrue(md.contains("| zh | character | 1 | CER 0.0 |"), md)
        let cmp = ReportRendering.markdownComparison([a, b])
        XCTAssertTrue(cmp.contains("| de | 0.0 | 33.3 |"), cmp)
        let svg = ReportRendering.svgBarChart([a, b], title: "WER on espeak speech")
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("base + experts &lt;fuse&gt;"), "names are XML-escaped")
        XCTAssertEqual(svg.components(separatedBy: "<rect x=").count - 1, 4 * 2 + 2, "8 bars + 2 legend swatches")
        // Well-formed XML.
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "SVG must parse: \(String(describing: parser.parserError))")
        if let dir = ProcessInfo.processInfo.environment["GLOSSA_TEST_ARTIFACTS"] {
            try svg.write(toFile: dir + "/eval-chart.svg", atomically: true, encoding: .utf8)
            try (md + "\n" + cmp).write(toFile: dir + "/eval-report.md", atomically: true, encoding: .utf8)
        }
    }

    /// Nine languages, three models, rates above 100% (as base Whisper on espeak French).
    func testSVGWithManyLanguagesAndHighRates() throws {
        let langs = ["de", "en", "es", "fr", "it", "nl", "pl", "pt", "ru"]
        func report(_ name: String, _ rate: (Int) -> Int) -> EvalReport {
            var acc = EvalAccumulator(keepUtterances: false)
            for (i, l) in langs.enumerated() {
                // Reference of 20 words; `rate(i)` of them wrong (substituted, then inserted beyond 20).
                let ref = Array(repeating: "w", count: 20)
                var hyp = ref
                let errors = rate(i)
                for k in 0..<min(errors, 20) { hyp[k] = "x" }
                if errors > 20 { hyp += Array(repeating: "y", count: errors - 20) }
                acc.add(id: "\(l)-1", language: l, reference: ref.joined(separator: " "), hypothesis: hyp.joined(separator: " "))
            }
            return acc.report(model: .init(name: name), dataset: "espeak/test.jsonl", settings: .init(mode: "language-aware", beamSize: 5))
        }
        let reports = [report("whisper-base", { [5, 2, 6, 25, 7, 12, 9, 8, 10][$0] }),
                       report("fused experts (ties)", { [3, 2, 4, 12, 5, 6, 6, 5, 7][$0] }),
                       report("distilled student", { [3, 2, 4, 10, 4, 5, 6, 5, 6][$0] })]
        XCTAssertEqual(reports[0].languages[3].score.errorRate, 1.25)
        let svg = ReportRendering.svgBarChart(reports, title: "WER per language, espeak test set")
        XCTAssertEqual(svg.components(separatedBy: "<rect x=").count - 1, 27 + 3)
        XCTAssertTrue(svg.contains(">125%<"), "axis reaches the largest bar")
        if let dir = ProcessInfo.processInfo.environment["GLOSSA_TEST_ARTIFACTS"] {
            try svg.write(toFile: dir + "/eval-chart-9.svg", atomically: true, encoding: .utf8)
        }
    }
}

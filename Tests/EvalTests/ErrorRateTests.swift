import Foundation
import XCTest
import GlossaCore
@testable import Eval

final class ErrorRateTests: XCTestCase {
    private func array(_ c: EditCounts) -> [Int] { [c.hits, c.substitutions, c.deletions, c.insertions] }

    func testGoldenCountsFromJiwer() {
        var total = EditCounts()
        for (r, h, expected) in EvalGoldenCases.words {
            let c = ErrorRate.wordCounts(reference: r, hypothesis: h)
            XCTAssertEqual(array(c), expected, "words \(r.debugDescription) / \(h.debugDescription)")
            total += c
        }
        XCTAssertEqual(array(total), EvalGoldenCases.corpusWords)
        XCTAssertEqual(total.errorRate, EvalGoldenCases.corpusWER, accuracy: 1e-12)
        for (r, h, expected) in EvalGoldenCases.characters {
            XCTAssertEqual(array(ErrorRate.characterCounts(reference: r, hypothesis: h)), expected, "chars \(r) / \(h)")
        }
    }

    func testEmptyReferenceFollowsJiwer() {
        XCTAssertEqual(ErrorRate.wordCounts(reference: "", hypothesis: "a b").errorRate, 2)
        XCTAssertEqual(ErrorRate.wordCounts(reference: "", hypothesis: "").errorRate, 0)
    }

    func testCharacterScoringIgnoresSpacesForCJK() {
        XCTAssertEqual(ScoringUnit.forLanguage("zh"), .character)
        XCTAssertEqual(ScoringUnit.forLanguage("de"), .word)
        let c = ErrorRate.counts(reference: "你好 世界 ", hypothesis: "你好世界", unit: .character)
        XCTAssertEqual(c.errors, 0)
        XCTAssertEqual(c.referenceLength, 4)
    }

    /// Hundreds of random and sentence-like pairs against jiwer run live (skipped without python/jiwer).
    func testAgreesWithJiwerOnRandomAndRealPairs() throws {
        var rng = SeededGenerator(seed: 2024)
        let vocab = ["a", "b", "c", "the", "der", "le", "é", "ça", "ёж", "x"]
        var pairs: [[String]] = []
        for _ in 0..<300 {
            let n = Int(rng.next() % 9), m = Int(rng.next() % 9)
            let r = (0..<n).map { _ in vocab[Int(rng.next() % UInt64(vocab.count))] }.joined(separator: " ")
            let h = (0..<m).map { _ in vocab[Int(rng.next() % UInt64(vocab.count))] }.joined(separator: " ")
            pairs.append([r, h])
        }
        let sentences = [
            "le chat dort sur le canapé du salon", "die kinder spielen im garten hinter dem haus",
            "el tren llega a la estación a las ocho", "мы пойдём в театр в субботу вечером",
            "de fiets staat achter het oude station", "il gatto guarda la pioggia dalla finestra",
            "o mercado abre cedo aos sábados", "w lesie słychać śpiew ptaków",
        ]
        for s in sentences {
            var words = s.split(separator: " ").map(String.init)
            pairs.append([s, s])
            for _ in 0..<12 {
                // Simulated ASR errors: drop, duplicate, swap or misspell words.
                var h = words
                switch rng.next() % 4 {
                case 0: h.remove(at: Int(rng.next() % UInt64(h.count)))
                case 1: let i = Int(rng.next() % UInt64(h.count)); h.insert(h[i], at: i)
                case 2: h.swapAt(Int(rng.next() % UInt64(h.count)), Int(rng.next() % UInt64(h.count)))
                default: let i = Int(rng.next() % UInt64(h.count)); h[i] = String(h[i].dropLast()) + "x"
                }
                pairs.append([s, h.joined(separator: " ")])
                words = rng.next() % 3 == 0 ? h : words
            }
        }
        let script = """
        import sys, json, jiwer
        pairs = json.load(sys.stdin)
        out = []
        for r, h in pairs:
            w = jiwer.process_words(r, h) if r.strip() else None
            c = jiwer.process_characters(r, h) if r.strip() else None
            out.append([[w.hits, w.substitutions, w.deletions, w.insertions] if w else None,
                        [c.hits, c.substitutions, c.deletions, c.insertions] if c else None])
        refs = [r for r, _ in pairs]; hyps = [h for _, h in pairs]
        corpus = jiwer.process_words(refs, hyps)
        json.dump({"pairs": out, "corpus_wer": corpus.wer}, sys.stdout)
        """
        let output = try PythonPeer.run(script, input: try JSONEncoder().encode(pairs), needs: ["jiwer"])
        struct Result: Decodable { let pairs: [[[Int]?]]; let corpus_wer: Double }
        let expected = try JSONDecoder().decode(Result.self, from: output)
        var total = EditCounts()
        var compared = 0
        for (i, pair) in pairs.enumerated() {
            let w = ErrorRate.wordCounts(reference: pair[0], hypothesis: pair[1])
            total += w
            if let e = expected.pairs[i][0] { XCTAssertEqual(array(w), e, "words \(pair)"); compared += 1 }
            if let e = expected.pairs[i][1] {
                XCTAssertEqual(array(ErrorRate.characterCounts(reference: pair[0], hypothesis: pair[1])), e, "chars \(pair)")
            }
        }
        XCTAssertGreaterThan(compared, 250)
        XCTAssertEqual(total.errorRate, expected.corpus_wer, accuracy: 1e-12)
    }
}


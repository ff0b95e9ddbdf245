import Foundation
import GlossaCore
import Tensor
import TensorIO
import Whisper
import XCTest
@testable import Glossa

/// `export --format ct2`: the merged model as a CTranslate2 folder (the faster-whisper side is
/// `FasterWhisperAgreementTests`). Uses `CompositionTests`' tiny registry and random experts.
extension CompositionTests {
    /// The model.bin, read back by Glossa's own CTranslate2 reader, holds exactly the merged
    /// weights (bit for bit, in f32 and f16), and runs like the adapter unmerged.
    func testMergedCT2ExportReadsBackAsTheMergedWeightsBitExact() throws {
        let (reg, ckpt) = try registry()
        let fr = try expert(reg, "fr", seed: 1)
        let adapted = "model.decoder.layers.0.fc1.weight"
        for dtype in [DType.f32, .f16] {
            let merged = try reg.mergedCheckpoint(fr, dtype: dtype, compute: compute)
            XCTAssertTrue(merged.tensors.values.allSatisfy { $0.dtype == dtype }, "--dtype applies to every tensor")
            let out = tmp.appendingPathComponent("fr-ct2-\(dtype.rawValue)")
            try reg.exportMerged(fr, format: .ct2, to: out.path, dtype: dtype, force: false, compute: compute)
            let back = try CTranslate2Whisper.load(folder: out)
            XCTAssertEqual(back.config, ckpt.config)
            XCTAssertEqual(back.tensors, merged.tensors, "\(dtype)")
            XCTAssertEqual(back.tokenizerJSON, ckpt.tokenizerJSON)
            XCTAssertNotEqual(back.tensors[adapted], Registry.converted(ckpt.tensors[adapted]!, to: dtype), "the delta is in")
        }
        let merged = try WhisperModel(checkpoint: try SpeechModel.loadCheckpoint(folder: tmp.appendingPathComponent("fr-ct2-F32")))
        let base = try WhisperModel(checkpoint: ckpt)
        XCTAssertLessThanOrEqual(maxRelDiff(try logits(merged, .none), try logits(base, adapters(reg, [fr], base))), 1e-4)
        let staging = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(staging, [], "no staging folder left")
    }

    /// A routed set, an adapter of another base and an existing PATH are refused, writing nothing.
    func testMergedCT2ExportRefusesRoutedSetsOtherBasesAndExistingPaths() throws {
        let (reg, _) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2)
        var job = Composition(experts: try reg.selectExperts(refs: [fr, de]), method: .shared, name: "split", version: "1.0.0")
        job.rank = 2
        _ = try job.run(registry: reg, compute: compute, log: { _ in })
        let routed = tmp.appendingPathComponent("split-ct2").path
        XCTAssertThrowsError(try reg.exportMerged("split", format: .ct2, to: routed, dtype: .f16, force: false, compute: compute)) {
            XCTAssertTrue("\($0)".contains("routed by language"), "\($0)")
            XCTAssertEqual(($0 as? GlossaError)?.category, .invalidInput)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: routed))

        _ = try registry(baseSeed: 4)   // a second base in the same registry
        let other = tmp.appendingPathComponent("other-ct2").path
        XCTAssertThrowsError(try reg.exportMerged(fr, base: "tiny4", format: .ct2, to: other, dtype: .f16, force: false, compute: compute)) {
            XCTAssertTrue("\($0)".contains("was made for base"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: other))
        XCTAssertNoThrow(try reg.exportMerged(fr, base: "tiny3", format: .ct2, to: other, dtype: .f16, force: false, compute: compute))

        let marker = URL(fileURLWithPath: other).appendingPathComponent("model.bin")
        let before = try Data(contentsOf: marker)
        XCTAssertThrowsError(try reg.exportMerged(de, format: .ct2, to: other, dtype: .f16, force: false, compute: compute)) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: marker), before, "the existing export is untouched")
        try reg.exportMerged(de, format: .ct2, to: other, dtype: .f16, force: true, compute: compute)
        XCTAssertNotEqual(try Data(contentsOf: marker), before, "--force replaces it")
    }
}

/// `glossa export --format ct2` as a user runs it: exit codes, messages, --json, nothing left.
final class MergedCT2ExportCLITests: XCTestCase {
    func testExitCodesAndMessages() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-ct2-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try BundleTestSupport.registry(in: dir)   // base tiny, experts fr-tiny and de-tiny
        let registry = dir.appendingPathComponent("registry").path
        func glossa(_ args: [String]) throws -> GlossaBinary.Run { try GlossaBinary.run(args, registry: registry) }
        let out = dir.appendingPathComponent("fr-ct2").path

        let ok = try glossa(["export", "fr-tiny", "--format", "ct2", "--dtype", "f32", "--out", out, "--json"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: String])
        XCTAssertEqual(o["format"], "ct2")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: out)),
                       ["model.bin", "config.json", "vocabulary.json", "tokenizer.json", "preprocessor_config.json"])

        let again = try glossa(["export", "fr-tiny", "--format", "ct2", "--out", out])
        XCTAssertEqual(again.status, 65, again.stderr)
        XCTAssertTrue(again.stderr.contains("already exists") && again.stderr.contains("--force"), again.stderr)
        XCTAssertEqual(try glossa(["export", "fr-tiny", "--format", "ct2", "--out", out, "--force"]).status, 0)

        let routed = dir.appendingPathComponent("routed").path
        let two = try glossa(["export", "--expert", "fr-tiny", "--expert", "de-tiny", "--format", "ct2", "--out", routed])
        XCTAssertEqual(two.status, 65, two.stderr)
        XCTAssertTrue(two.stderr.contains("merges one adapter"), two.stderr)
        let unknown = try glossa(["export", "nope", "--format", "ct2", "--out", routed])
        XCTAssertEqual(unknown.status, 66, unknown.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: routed))
        XCTAssertEqual(BundleTestSupport.entries(dir).filter { $0.hasPrefix(".") }, [], "no staging folder left")
    }
}

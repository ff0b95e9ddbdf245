import Foundation
import XCTest
import GlossaCore
@testable import TensorIO

final class CTranslate2WhisperTests: XCTestCase {
    private let tinyConfig = WhisperConfig(
        numMelBins: 8, dModel: 16, encoderLayers: 2, encoderAttentionHeads: 2, encoderFFNDim: 32,
        decoderLayers: 2, decoderAttentionHeads: 4, decoderFFNDim: 24, vocabSize: 40,
        maxSourcePositions: 24, maxTargetPositions: 16, suppressTokens: [5, 7], beginSuppressTokens: [2, 9])

    /// The Hugging Face state dict the tiny CT2 models were converted from.
    private func expectedTiny() throws -> SafeTensorsFile {
        try SafeTensors.read(try TestPaths.ct2Tiny("ct2_tiny_expected.safetensors"))
    }

    /// Quantised in CTranslate2: the 2-D/3-D weights of linear, conv and embedding layers.
    private func isQuantisable(_ name: String, _ shape: [Int]) -> Bool {
        name.hasSuffix(".weight") && shape.count >= 2 && !name.contains("embed_positions")
    }

    /// A tiny random Whisper converted and int8-quantised by CTranslate2 itself: every
    /// weight dequantises to within half a quantisation step of the original, and every
    /// unquantised tensor is exact.
    func testTinyInt8ModelWrittenByCTranslate2() throws {
        let ckpt = try CTranslate2Whisper.load(folder: try TestPaths.ct2Tiny("ct2_tiny_int8"))
        XCTAssertEqual(ckpt.config, tinyConfig)
        let expected = try expectedTiny()
        var hf = expected.tensors
        hf = hf.filter { !$0.key.hasSuffix("k_proj.bias") }
        XCTAssertEqual(Set(ckpt.tensors.keys), Set(hf.keys))
        for (name, e) in hf {
            let ours = try XCTUnwrap(ckpt.tensors[name], name)
            XCTAssertEqual(ours.shape, e.shape, name)
            XCTAssertEqual(ours.dtype, .f32, name)
            let a = ours.doubles, b = e.doubles
            if isQuantisable(name, e.shape) {
                let rows = e.shape[0], perRow = e.count / rows
                for r in 0 ..< rows {
                    let row = b[r * perRow ..< (r + 1) * perRow]
                    let step = row.map(abs).max()! / 127
                    for i in r * perRow ..< (r + 1) * perRow {
                        XCTAssertLessThanOrEqual(abs(a[i] - b[i]), step * 0.5 + 1e-6, "\(name)[\(i)]")
                    }
                }
            } else {
                XCTAssertEqual(a, b, name)
            }
        }
        XCTAssertEqual(ckpt.tokenizerJSON, try readFile(try TestPaths.ct2Tiny("ct2_tiny_int8/tokenizer.json").path))
    }

    func testTinyFloat16ModelWrittenByCTranslate2() throws {
        let ckpt = try CTranslate2Whisper.load(folder: try TestPaths.ct2Tiny("ct2_tiny_float16"))
        XCTAssertEqual(ckpt.config, tinyConfig)
        let expected = try expectedTiny()
        XCTAssertEqual(Set(ckpt.tensors.keys), Set(expected.tensors.keys.filter { !$0.hasSuffix("k_proj.bias") }))
        for (name, ours) in ckpt.tensors {
            XCTAssertEqual(ours.dtype, .f16, name)
            let e = expected[name]!.doubles
            for (i, (x, y)) in zip(ours.doubles, e).enumerated() {
                // Round to nearest f16: relative error at most 2^-11 (normal range).
                XCTAssertLessThanOrEqual(abs(x - y), abs(y) * 0x1p-11 + 0x1p-24, "\(name)[\(i)]")
            }
        }
    }

    // MARK: The real whisper-base

    private struct Slice: Decodable {
        var shape: [Int]
        var first: [Double]
        var row: Int
        var row_first: [Double]
        var sum: Double
    }

    func testRealWhisperBaseMatchesPythonSlicesAndHFShapes() throws {
        let dir = try TestPaths.whisperBaseCT2()
        let ckpt = try CTranslate2Whisper.load(folder: dir)
        let c = ckpt.config
        XCTAssertEqual([c.numMelBins, c.dModel, c.encoderLayers, c.encoderAttentionHeads, c.encoderFFNDim],
                       [80, 512, 6, 8, 2048])
        XCTAssertEqual([c.decoderLayers, c.decoderAttentionHeads, c.decoderFFNDim, c.vocabSize, c.maxSourcePositions, c.maxTargetPositions],
                       [6, 8, 2048, 51865, 1500, 448])
        XCTAssertEqual(c.beginSuppressTokens, [220, 50257])
        XCTAssertEqual(c.suppressTokens.count, 88)
        XCTAssertEqual(Array(c.suppressTokens.prefix(5)), [1, 2, 7, 8, 9])

        // Every tensor has its Hugging Face shape (spot checks; the loader validates all).
        let shapes = WhisperLayout.expectedShapes(for: c)
        XCTAssertEqual(shapes.count, ckpt.tensors.count)
        XCTAssertEqual(ckpt.tensors.count, 4 + 1 + 6 * 15 + 2 + 2 + 6 * 24 + 2)
        for (name, shape) in shapes { XCTAssertEqual(ckpt.tensors[name]?.shape, shape, name) }
        XCTAssertEqual(ckpt.tensors["model.encoder.layers.0.self_attn.k_proj.weight"]?.shape, [512, 512])
        XCTAssertNil(ckpt.tensors["model.encoder.layers.0.self_attn.k_proj.bias"])
        XCTAssertEqual(ckpt.tensors["model.encoder.conv1.weight"]?.shape, [512, 80, 3])
        XCTAssertTrue(ckpt.tensors.values.allSatisfy { $0.dtype == .f16 })

        let slices = try JSONDecoder().decode([String: Slice].self,
                                              from: Data(contentsOf: TestPaths.golden("ct2_whisper_base_slices.json")))
        XCTAssertGreaterThan(slices.count, 15)
        for (name, s) in slices {
            let t = try XCTUnwrap(ckpt.tensors[name], name)
            XCTAssertEqual(t.shape, s.shape, name)
            let v = t.doubles
            XCTAssertEqual(Array(v.prefix(8)), s.first, name)
            let rowLength = t.count / t.shape[0]
            XCTAssertEqual(Array(v[s.row * rowLength ..< s.row * rowLength + min(8, rowLength)]), s.row_first, name)
            XCTAssertEqual(v.reduce(0, +), s.sum, accuracy: 1e-9 * max(1, abs(s.sum)) + 1e-6, name)
        }

        // Encoder positions are Whisper's sinusoids: [sin(t * f_i), cos(t * f_i)] with
        // f_i = exp(-i * ln(10000) / (d/2 - 1)), stored in f16.
        let pos = ckpt.tensors["model.encoder.embed_positions.weight"]!.doubles
        let half = 256
        for t in stride(from: 0, to: 1500, by: 37) {
            for i in stride(from: 0, to: half, by: 5) {
                let f = exp(-Double(i) * log(10000.0) / Double(half - 1))
                XCTAssertEqual(pos[t * 512 + i], sin(Double(t) * f), accuracy: 1e-3, "sin t=\(t) i=\(i)")
                XCTAssertEqual(pos[t * 512 + half + i], cos(Double(t) * f), accuracy: 1e-3, "cos t=\(t) i=\(i)")
            }
        }
        XCTAssertEqual(ckpt.tokenizerJSON.count, 2_203_239)
    }

    // MARK: Malformed models

    /// Re-serialises a parsed model.bin with `edit` applied, through `CTranslate2ModelWriter`
    /// (a `version` other than 6 is patched into the first 4 bytes afterwards).
    private func rewrite(_ folder: URL, into dir: URL, version: UInt32 = 6,
                        edit: (inout [(name: String, code: UInt8, shape: [Int], bytes: Data)], inout [(String, String)]) -> Void) throws -> URL {
        let model = try CTranslate2Model(path: folder.appendingPathComponent("model.bin").path)
        let codes = CTranslate2Model.dtypeCodes
        var vars = model.variables.values.sorted { $0.name < $1.name }.map { v in
            (name: v.name, code: UInt8(codes.firstIndex(of: v.dtype)!), shape: v.shape, bytes: model.file.data(in: v.range))
        }
        var aliases = model.aliases.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        edit(&vars, &aliases)
        let target = dir.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for f in ["config.json", "tokenizer.json"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(f), to: target.appendingPathComponent(f))
        }
        let bin = target.appendingPathComponent("model.bin")
        var tensors = [String: TensorData]()
        for v in vars { tensors[v.name] = TensorData(dtype: codes[Int(v.code)], shape: v.shape, bytes: v.bytes) }
        try CTranslate2ModelWriter.write(specName: "WhisperSpec", revision: 3, variables: tensors,
                                         aliases: Dictionary(aliases, uniquingKeysWith: { $1 }), to: bin.path)
        if version != CTranslate2Model.supportedVersion {
            var out = try Data(contentsOf: bin)
            withUnsafeBytes(of: version.littleEndian) { out.replaceSubrange(0 ..< 4, with: $0) }
            try out.write(to: bin)
        }
        return target
    }

    private func loadError(_ folder: URL) -> TensorIOError? {
        do { _ = try CTranslate2Whisper.load(folder: folder); return nil } catch { return error }
    }

    func testRewriterReproducesAValidModel() throws {
        let dir = try TestPaths.tempDir(self)
        let src = try TestPaths.ct2Tiny("ct2_tiny_int8")
        let copy = try rewrite(src, into: dir) { _, _ in }
        XCTAssertEqual(try CTranslate2Whisper.load(folder: copy).tensors, try CTranslate2Whisper.load(folder: src).tensors)
    }

    func testUnknownScalarsAreIgnoredButUnknownTensorsAreRefused() throws {
        let dir = try TestPaths.tempDir(self)
        let src = try TestPaths.ct2Tiny("ct2_tiny_float16")
        let withScalar = try rewrite(src, into: dir) { vars, _ in
            vars.append((name: "decoder/some_future_flag", code: 1, shape: [], bytes: Data([1])))
        }
        XCTAssertNoThrow(try CTranslate2Whisper.load(folder: withScalar))
        let withTensor = try rewrite(src, into: dir) { vars, _ in
            vars.append((name: "encoder/extra/weight", code: 0, shape: [2], bytes: Data(count: 8)))
        }
        guard case .cTranslate2(_, "encoder/extra/weight", _)? = loadError(withTensor) else { return XCTFail("\(String(describing: loadError(withTensor)))") }
    }

    func testNonZeroKeyBiasIsRefused() throws {
        let dir = try TestPaths.tempDir(self)
        let bad = try rewrite(try TestPaths.ct2Tiny("ct2_tiny_float16"), into: dir) { vars, _ in
            let i = vars.firstIndex { $0.name == "encoder/layer_1/self_attention/linear_0/bias" }!
            vars[i].bytes[16 * 2 + 3] = 0x3c  // an element of the k block (rows 16..<32)
        }
        guard case .cTranslate2(_, "encoder/layer_1/self_attention/linear_0/bias", _)? = loadError(bad) else {
            return XCTFail("\(String(describing: loadError(bad)))")
        }
    }

    func testMissingVariableDanglingAliasVersionAndTruncation() throws {
        let dir = try TestPaths.tempDir(self)
        let src = try TestPaths.ct2Tiny("ct2_tiny_int8")
        let missing = try rewrite(src, into: dir) { vars, _ in vars.removeAll { $0.name == "decoder/layer_1/ffn/linear_1/bias" } }
        guard case .cTranslate2(_, "decoder/layer_1/ffn/linear_1/bias", _)? = loadError(missing) else { return XCTFail() }

        let missingScale = try rewrite(src, into: dir) { vars, _ in vars.removeAll { $0.name == "encoder/conv2/weight_scale" } }
        guard case .cTranslate2(_, "encoder/conv2/weight", let m)? = loadError(missingScale), m.contains("_scale") else { return XCTFail() }

        let dangling = try rewrite(src, into: dir) { _, aliases in aliases.append(("x", "nope")) }
        guard case .cTranslate2(_, "x", _)? = loadError(dangling) else { return XCTFail() }

        let v5 = try rewrite(src, into: dir, version: 5) { _, _ in }
        guard case .cTranslate2(_, nil, let m5)? = loadError(v5), m5.contains("version 5") else { return XCTFail() }

        let bin = try Data(contentsOf: src.appendingPathComponent("model.bin"))
        var g = SeededGenerator(seed: 1)
        for _ in 0 ..< 40 {
            let cut = Int.random(in: 0 ..< bin.count, using: &g)
            let t = try rewrite(src, into: dir) { _, _ in }
            try bin.prefix(cut).write(to: t.appendingPathComponent("model.bin"))
            guard case .cTranslate2(let path, _, _)? = loadError(t) else { return XCTFail("cut at \(cut)") }
            XCTAssertTrue(path.hasSuffix("model.bin"))
        }
    }

    func testMissingFilesAreNamed() throws {
        let dir = try TestPaths.tempDir(self)
        guard case .fileSystem(let path, _, _)? = loadError(dir) else { return XCTFail() }
        XCTAssertTrue(path.hasSuffix("model.bin"))
    }
}

extension CTranslate2WhisperTests {
    /// Reports import time of the real model (run in release for meaningful numbers).
    func testImportTimeOfWhisperBase() throws {
        let dir = try TestPaths.whisperBaseCT2()
        let clock = ContinuousClock()
        var ckpt: WhisperCheckpoint?
        let ct2 = clock.measure { ckpt = try? CTranslate2Whisper.load(folder: dir) }
        let out = try TestPaths.tempDir(self)
        let write = try clock.measure { try HuggingFaceWhisper.write(XCTUnwrap(ckpt), to: out) }
        let read = try clock.measure { _ = try HuggingFaceWhisper.load(folder: out) }
        print("whisper-base import: CTranslate2 load \(ct2), HF folder write \(write), HF folder load \(read)")
        XCTAssertNotNil(ckpt)
    }
}

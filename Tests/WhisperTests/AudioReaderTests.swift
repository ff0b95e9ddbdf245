import Foundation
import XCTest
@testable import Whisper

final class AudioReaderTests: XCTestCase {
    /// Dominant frequency estimate from zero crossings (Hz).
    private func zeroCrossingFrequency(_ x: ArraySlice<Float>, rate: Double) -> Double {
        var crossings = 0
        var prev = x.first ?? 0
        for v in x.dropFirst() { if (prev < 0) != (v < 0) { crossings += 1 }; prev = v }
        return Double(crossings) / 2 / (Double(x.count) / rate)
    }

    private func rms(_ x: ArraySlice<Float>) -> Double {
        (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot()
    }

    func testDecodesFormatsRatesAndChannelsTo16kMono() throws {
        let dir = try AudioFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // (file name, rate, channels): every case holds 2 s of a 440 Hz sine at amplitude 0.5.
        let cases: [(String, Int, Int)] = [
            ("a.wav", 44_100, 2), ("b.flac", 8_000, 1), ("c.ogg", 48_000, 2), ("d.wav", 16_000, 1), ("e.aiff", 22_050, 3),
        ]
        for (name, rate, channels) in cases {
            let path = dir.appendingPathComponent(name).path
            try AudioFixtures.run("sox", ["-n", "-r", "\(rate)", "-c", "\(channels)", path, "synth", "2", "sine", "440", "vol", "0.5"])
            let reader = try AudioReader(path: path)
            XCTAssertEqual(reader.sourceSampleRate, rate, name)
            XCTAssertEqual(reader.sourceChannels, channels, name)
            let samples = try AudioReader.load(path: path)
            XCTAssertEqual(Double(samples.count), 32_000, accuracy: 2, "\(name): 2 s at 16 kHz")
            let middle = samples[4_000..<28_000]
            XCTAssertEqual(zeroCrossingFrequency(middle, rate: 16_000), 440, accuracy: 2, name)
            // A sine of amplitude 0.5 has RMS 0.5/sqrt(2); ogg is lossy, so allow 2%.
            XCTAssertEqual(rms(middle), 0.5 / 2.0.squareRoot(), accuracy: 0.01, name)
        }
    }

    func testDownmixAveragesChannels() throws {
        let dir = try AudioFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Left +0.5, right -0.25 constant: the mono mix is 0.125 everywhere.
        var interleaved: [Float] = []
        for _ in 0..<1600 { interleaved += [0.5, -0.25] }
        let path = dir.appendingPathComponent("dc.wav").path
        try AudioFixtures.floatWAV(samples: interleaved, sampleRate: 16_000, channels: 2).write(to: URL(fileURLWithPath: path))
        let mono = try AudioReader.load(path: path)
        XCTAssertEqual(mono.count, 1600)
        for v in mono { XCTAssertEqual(v, 0.125, accuracy: 1e-7) }
    }

    func testStreamingChunksConcatenateToWholeFile() throws {
        let dir = try AudioFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("long.wav").path
        // 65 s at 22.05 kHz stereo: two full 30 s windows and a 5 s tail.
        try AudioFixtures.run("sox", ["-n", "-r", "22050", "-c", "2", path, "synth", "65", "sine", "300-3000", "vol", "0.3"])
        let reader = try AudioReader(path: path)
        var chunks: [[Float]] = []
        while let c = try reader.nextChunk() { chunks.append(c) }
        XCTAssertEqual(chunks.map(\.count).prefix(2), [480_000, 480_000])
        XCTAssertEqual(chunks.count, 3)
        XCTAssertEqual(Double(chunks[2].count), 80_000, accuracy: 2)
        XCTAssertNil(try reader.nextChunk(), "exhausted reader keeps returning nil")
        XCTAssertEqual(chunks.flatMap { $0 }, try AudioReader.load(path: path))
    }

    func testErrorsNameThePath() throws {
        let dir = try AudioFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func expect(_ path: String, _ check: (AudioError) -> Bool, line: UInt = #line) {
            do {
                _ = try AudioReader.load(path: path)
                XCTFail("expected an error for \(path)", line: line)
            } catch {
                XCTAssertTrue(check(error), "unexpected \(error)", line: line)
                XCTAssertEqual(error.path, path, line: line)
                XCTAssertTrue(error.description.contains(path), line: line)
            }
        }
        let missing = dir.appendingPathComponent("nope.wav").path
        expect(missing) { if case .fileNotFound = $0 { return true }; return false }

        let empty = dir.appendingPathComponent("empty.wav").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        expect(empty) { if case .empty = $0 { return true }; return false }

        let headerOnly = dir.appendingPathComponent("header-only.wav").path
        try AudioFixtures.floatWAV(samples: [], sampleRate: 16_000, channels: 1).write(to: URL(fileURLWithPath: headerOnly))
        expect(headerOnly) { if case .empty = $0 { return true }; return false }

        let garbage = dir.appendingPathComponent("garbage.wav").path
        FileManager.default.createFile(atPath: garbage, contents: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }))
        expect(garbage) { if case .unsupportedFormat = $0 { return true }; return false }

        let text = dir.appendingPathComponent("notes.txt").path
        try "just some words, not audio\n".write(toFile: text, atomically: true, encoding: .utf8)
        expect(text) { if case .unsupportedFormat = $0 { return true }; return false }

        // NaN at frame 100 of channel 1.
        var samples = [Float](repeating: 0.1, count: 2 * 400)
        samples[2 * 100 + 1] = .nan
        let nan = dir.appendingPathComponent("nan.wav").path
        try AudioFixtures.floatWAV(samples: samples, sampleRate: 16_000, channels: 2).write(to: URL(fileURLWithPath: nan))
        expect(nan) { $0 == .nonFiniteSample(path: nan, frame: 100, channel: 1) }

        samples[2 * 100 + 1] = 0.1
        samples[2 * 300] = -.infinity
        try AudioFixtures.floatWAV(samples: samples, sampleRate: 16_000, channels: 2).write(to: URL(fileURLWithPath: nan))
        expect(nan) { $0 == .nonFiniteSample(path: nan, frame: 300, channel: 0) }
    }

    func testTruncatedFilesAreReported() throws {
        let dir = try AudioFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for ext in ["flac", "wav"] {
            let full = dir.appendingPathComponent("full.\(ext)").path
            try AudioFixtures.run("sox", ["-n", "-r", "16000", "-c", "1", full, "synth", "5", "whitenoise", "vol", "0.5"])
            let bytes = try Data(contentsOf: URL(fileURLWithPath: full))
            let cut = dir.appendingPathComponent("cut.\(ext)").path
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
            do {
                let got = try AudioReader.load(path: cut)
                XCTFail("\(ext): truncated file decoded to \(got.count) samples without an error")
            } catch {
                guard case .corrupted = error else { return XCTFail("\(ext): expected .corrupted, got \(error)") }
                XCTAssertEqual(error.path, cut)
            }
        }
    }

    /// Found by `fuzz/run.sh audio`: a small FLAC whose STREAMINFO claims 2^36 samples made
    /// `load` reserve that many floats up front (a 256 GiB allocation aborts the process).
    /// The claim is patched into a real 0.02 s file; loading must return (or throw) without
    /// believing it.
    func testHeaderClaimingBillionsOfSamplesIsNotAllocated() throws {
        let dir = try AudioFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("claims.flac").path
        try AudioFixtures.run("sox", ["-n", "-r", "16000", "-c", "1", path, "synth", "0.02", "sine", "440"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // "fLaC", a 4-byte block header, then STREAMINFO: the 36-bit total-sample count is the
        // low nibble of byte 21 and bytes 22..25.
        XCTAssertEqual(Array(bytes[0..<4]), Array("fLaC".utf8))
        bytes[21] |= 0x0F
        for i in 22...25 { bytes[i] = 0xFF }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try AudioReader(path: path)
        XCTAssertGreaterThan(reader.expectedSamples, 1 << 34, "the patched header should claim about 2^36 samples")
        do {
            let samples = try AudioReader.load(path: path)
            XCTAssertLessThan(samples.count, 16_000, "only the 0.02 s really in the file can come out")
        } catch {
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }
}

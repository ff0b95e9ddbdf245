import Foundation
import XCTest
@testable import Whisper

/// An hour of audio streams through `AudioReader` in 30 s windows with bounded memory.
final class AudioLongFileTests: XCTestCase {
    /// Resident set size in bytes (Linux /proc), or nil elsewhere.
    static func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb * 1024
    }

    func testOneHourFileStreamsWithBoundedMemory() throws {
        let dir = try AudioFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("hour.flac").path
        // One hour, 8 kHz stereo FLAC: the reader must decode, downmix and upsample it.
        try AudioFixtures.run("sox", ["-n", "-r", "8000", "-c", "2", "-b", "16", path, "synth", "3600", "sine", "200-3000", "vol", "0.4"])
        let reader = try AudioReader(path: path)
        XCTAssertEqual(reader.duration, 3600, accuracy: 0.01)
        guard let baseline = Self.residentBytes() else { throw Peer.missing("no /proc/self/status") }
        var peak = baseline
        var total = 0
        var windows = 0
        while let chunk = try reader.nextChunk() {
            total += chunk.count
            windows += 1
            if windows % 10 == 0 { peak = max(peak, Self.residentBytes() ?? 0) }
        }
        XCTAssertEqual(windows, 120, "3600 s = 120 windows of 30 s")
        XCTAssertEqual(Double(total), 57_600_000, accuracy: 2)
        // The whole hour as f32 is 230 MB; streaming keeps about two windows (~4 MB) plus buffers.
        let growth = peak - baseline
        print("streamed 1 h: \(windows) windows, resident growth \(growth >> 20) MB")
        XCTAssertLessThan(growth, 40 << 20, "resident memory grew by \(growth >> 20) MB while streaming an hour")
    }
}

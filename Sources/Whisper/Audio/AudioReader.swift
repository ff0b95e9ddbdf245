import CSndFile
import Foundation

/// Reads any file libsndfile decodes (wav, flac, ogg/vorbis, opus, aiff, ...) at any
/// rate and channel count, and yields 16 kHz mono f32 samples in chunks.
///
/// Memory is bounded by the chunk size (plus one 8192-frame decode block), so an
/// hour-long file is processed one 30 s window at a time:
///
///     let reader = try AudioReader(path: "talk.flac")          // chunks of 480_000 samples
///     while let window = try reader.nextChunk() { ... }        // last chunk may be shorter
///
/// Pipeline per decode block: libsndfile -> f32 frames (integers scaled to [-1, 1))
/// -> finite check -> mean of channels -> libsoxr HQ -> 16 kHz.
///
/// NaN and infinite samples are rejected, not sanitised: `AudioError.nonFiniteSample`
/// names the source frame and channel. Silently zeroing them would hide a broken
/// upstream tool and change transcripts without a trace.
///
/// A reader owns C handles and mutable state: use it from one task at a time.
public final class AudioReader {
    /// Output sample rate in Hz (what Whisper expects).
    public static let sampleRate = 16_000
    /// One Whisper window: 30 s at 16 kHz.
    public static let windowSamples = 480_000

    public let path: String
    /// Sample rate of the file in Hz.
    public let sourceSampleRate: Int
    /// Channel count of the file (downmixed by averaging).
    public let sourceChannels: Int
    /// Frame count reported by the file header (frames per channel at the source rate).
    public let sourceFrames: Int64
    /// Container/encoding as libsndfile names them, e.g. "WAV (Microsoft) / Signed 16 bit PCM".
    public let formatName: String
    /// Samples per chunk returned by `nextChunk()`.
    public let chunkSamples: Int

    /// Duration in seconds from the header.
    public var duration: Double { Double(sourceFrames) / Double(sourceSampleRate) }
    /// Expected number of 16 kHz output samples (exact up to rounding of the resampler).
    /// A hostile header may claim up to Int64.max frames at 1 Hz: the count saturates at
    /// Int.max / 2 instead of trapping in the conversion (callers cap what they reserve).
    public var expectedSamples: Int {
        let n = (Double(sourceFrames) * Double(Self.sampleRate) / Double(sourceSampleRate)).rounded()
        return n.isFinite && n < Double(Int.max / 2) ? max(0, Int(n)) : Int.max / 2
    }

    private let file: OpaquePointer
    private let resampler: Resampler?
    private var framesRead: Int64 = 0
    private var pending: [Float] = []
    private var pendingStart = 0
    private var sourceEnded = false
    private var finished = false
    private static let blockFrames = 8192

    /// Opens `path` and reads its header.
    ///
    /// - Parameter chunkSamples: samples per chunk at 16 kHz (default one 30 s window).
    /// - Throws: `AudioError` naming the path: `.fileNotFound`, `.empty`,
    ///   `.unsupportedFormat`, `.corrupted` or `.resampler`.
    public init(path: String, chunkSamples: Int = AudioReader.windowSamples) throws(AudioError) {
        precondition(chunkSamples > 0, "chunkSamples must be positive")
        self.path = path
        self.chunkSamples = chunkSamples

        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
              FileManager.default.isReadableFile(atPath: path) else {
            throw .fileNotFound(path: path)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? -1
        if size == 0 { throw .empty(path: path) }

        var info = SF_INFO()
        guard let f = sf_open(path, Int32(SFM_READ), &info) else {
            let code = sf_error(nil)
            let detail = String(cString: sf_strerror(nil))
            switch Int(code) {
            case SF_ERR_UNRECOGNISED_FORMAT, SF_ERR_UNSUPPORTED_ENCODING:
                throw .unsupportedFormat(path: path, detail: detail)
            case SF_ERR_SYSTEM:
                throw .fileNotFound(path: path)
            default:
                throw .corrupted(path: path, detail: detail)
            }
        }
        // From here on `f` must be closed on every error path.
        if info.channels <= 0 || info.samplerate <= 0 {
            sf_close(f)
            throw .corrupted(path: path, detail: "header gives \(info.channels) channels at \(info.samplerate) Hz")
        }
        if info.frames <= 0 {
            sf_close(f)
            throw .empty(path: path)
        }
        if let detail = Self.truncationInLog(f) {
            sf_close(f)
            throw .corrupted(path: path, detail: detail)
        }
        self.file = f
        self.sourceSampleRate = Int(info.samplerate)
        self.sourceChannels = Int(info.channels)
        self.sourceFrames = Int64(info.frames)
        self.formatName = Self.describeFormat(info.format)
        if Int(info.samplerate) == Self.sampleRate {
            self.resampler = nil
        } else {
            do {
                self.resampler = try Resampler(inputRate: Double(info.samplerate), outputRate: Double(Self.sampleRate))
            } catch {
                sf_close(f)
                throw .resampler(path: path, detail: error.message)
            }
        }
    }

    deinit { sf_close(file) }

    /// Returns the next chunk of 16 kHz mono samples: `chunkSamples` long, except the
    /// last one, which is shorter (never empty); `nil` once the file is exhausted.
    public func nextChunk() throws(AudioError) -> [Float]? {
        while pending.count - pendingStart < chunkSamples && !finished {
            try fill()
        }
        let available = pending.count - pendingStart
        if available == 0 { return nil }
        let n = min(available, chunkSamples)
        let chunk = Array(pending[pendingStart..<(pendingStart + n)])
        pendingStart += n
        // Compact once the consumed prefix dominates, keeping memory ~ 2 chunks.
        if pendingStart >= chunkSamples {
            pending.removeSubrange(0..<pendingStart)
            pendingStart = 0
        }
        return chunk
    }

    /// Decodes one block, appends its 16 kHz mono samples to `pending`.
    private func fill() throws(AudioError) {
        if sourceEnded {
            if let resampler {
                do { pending.append(contentsOf: try resampler.flush()) } catch {
                    throw .resampler(path: path, detail: error.message)
                }
            }
            finished = true
            return
        }
        let channels = sourceChannels
        var block = [Float](repeating: 0, count: Self.blockFrames * channels)
        let got = block.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress!, sf_count_t(Self.blockFrames)) }
        if got < 0 || sf_error(file) != 0 {
            throw .corrupted(path: path, detail: "decoding failed at frame \(framesRead): \(String(cString: sf_strerror(file)))")
        }
        let frames = Int(got)
        if frames == 0 {
            sourceEnded = true
            if framesRead == 0 { throw .empty(path: path) }
            if framesRead < sourceFrames {
                throw .corrupted(path: path, detail: "data ends at frame \(framesRead) of \(sourceFrames) declared")
            }
            return
        }
        // Finite check and downmix (mean of channels) in one pass.
        var mono = [Float](repeating: 0, count: frames)
        let scale = 1 / Float(channels)
        for i in 0..<frames {
            var acc: Float = 0
            for c in 0..<channels {
                let v = block[i * channels + c]
                if !v.isFinite { throw .nonFiniteSample(path: path, frame: framesRead + Int64(i), channel: c) }
                acc += v
            }
            mono[i] = channels == 1 ? acc : acc * scale
        }
        framesRead += Int64(frames)
        if let resampler {
            do { pending.append(contentsOf: try resampler.process(mono)) } catch {
                throw .resampler(path: path, detail: error.message)
            }
        } else {
            pending.append(contentsOf: mono)
        }
    }

    /// Reads a whole file into memory as 16 kHz mono. Meant for short files
    /// (an hour is 230 MB of f32); stream long ones with `nextChunk()`.
    public static func load(path: String) throws(AudioError) -> [Float] {
        let reader = try AudioReader(path: path, chunkSamples: windowSamples)
        var all: [Float] = []
        // The header's frame count is a claim, not a fact: a 580-byte file can declare
        // billions of frames (found by fuzz/run.sh audio). Reserve at most two windows up
        // front and let real samples grow the array.
        all.reserveCapacity(min(reader.expectedSamples, 2 * windowSamples) + 64)
        while let chunk = try reader.nextChunk() { all.append(contentsOf: chunk) }
        return all
    }

    /// libsndfile opens a WAV/AIFF whose data chunk is cut short and silently shortens
    /// `frames`; its log keeps the evidence as "data : <declared> (should be <actual>)".
    /// Declared sizes of 0 or 0xFFFFFFFF mean "unknown" (files written to a pipe), not truncation.
    private static func truncationInLog(_ f: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 8192)
        sf_command(f, Int32(SFC_GET_LOG_INFO), &buffer, Int32(buffer.count))
        let log = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in log.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ")" || $0 == ":" })
            // ["data", "320000", "should", "be", "79920"]
            guard words.count == 5, words[0] == "data" || words[0] == "SSND", words[2] == "should",
                  let declared = UInt64(words[1]), let actual = UInt64(words[4]) else { continue }
            if declared > actual && declared != 0 && declared < 0xFFFF_FFF0 {
                return "header declares \(declared) data bytes, file holds \(actual)"
            }
        }
        return nil
    }

    private static func describeFormat(_ format: Int32) -> String {
        func name(_ f: Int32, _ command: Int32) -> String {
            var fmt = SF_FORMAT_INFO()
            fmt.format = f
            let ok = sf_command(nil, command, &fmt, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0
            return ok && fmt.name != nil ? String(cString: fmt.name) : String(format: "0x%x", f)
        }
        let major = name(format & Int32(SF_FORMAT_TYPEMASK), Int32(SFC_GET_FORMAT_MAJOR))
        let sub = name(format & Int32(SF_FORMAT_SUBMASK), Int32(SFC_GET_FORMAT_SUBTYPE))
        return "\(major) / \(sub)"
    }
}

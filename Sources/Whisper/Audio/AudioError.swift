/// Why an audio file could not be turned into 16 kHz mono samples.
///
/// Every case names the file, so a caller can print the error as is.
public enum AudioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No file (or no readable file) at `path`.
    case fileNotFound(path: String)
    /// The file exists but holds no audio: zero bytes, or a valid header with zero frames.
    case empty(path: String)
    /// libsndfile does not know the container or encoding.
    case unsupportedFormat(path: String, detail: String)
    /// The header or the data is damaged, or the data ends before the header says it should.
    case corrupted(path: String, detail: String)
    /// A decoded sample is NaN or infinite. `frame` counts source frames (at the
    /// file's own rate) from 0; `channel` is the source channel.
    case nonFiniteSample(path: String, frame: Int64, channel: Int)
    /// The resampler refused the rates or failed while converting.
    case resampler(path: String, detail: String)

    public var path: String {
        switch self {
        case .fileNotFound(let p), .empty(let p), .unsupportedFormat(let p, _), .corrupted(let p, _),
             .nonFiniteSample(let p, _, _), .resampler(let p, _):
            return p
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let p):
            return "Cannot read audio \(p): no such file (check the path)"
        case .empty(let p):
            return "Cannot read audio \(p): the file holds no audio samples"
        case .unsupportedFormat(let p, let d):
            return "Cannot read audio \(p): unsupported format (\(d)); convert it to wav or flac, e.g. with sox or ffmpeg"
        case .corrupted(let p, let d):
            return "Cannot read audio \(p): the file is truncated or corrupted (\(d)); re-export or re-download it"
        case .nonFiniteSample(let p, let f, let c):
            return "Cannot read audio \(p): sample at frame \(f), channel \(c) is NaN or infinite; fix the source file"
        case .resampler(let p, let d):
            return "Cannot resample audio \(p) to 16 kHz: \(d)"
        }
    }
}

import Foundation

/// Bounds on what decoding one frame may allocate, checked against its header before
/// anything is allocated: a 44-byte frame can declare 64 GiB, and a 150-byte rANS or zstd
/// payload can honestly expand to 1 GiB (one symbol repeated), so neither the header nor
/// the payload is believed on its own.
///
/// - `expectedLength`: the decoded length the caller knows the blob must have, from its
///   manifest (a tensor's dtype size x element count). Any other length is refused.
/// - `maxExpansion`: decoded bytes per frame byte, beyond `expansionFloor`. Real frames
///   stay far below it: float weights code at 1.1-1.5x, and the highly redundant tensors
///   (zero-initialised LoRA B factors, a few MiB at most for any Whisper size) fit under
///   the floor. A tensor over 16 MiB that is 99.9% redundant is not a trained weight.
/// - `maxLength`: never more than this machine's memory, which no frame could be
///   decoded into anyway; past it the allocation itself would abort the process.
public struct BlobDecodeLimits: Sendable, Equatable {
    public var expectedLength: Int?
    public var maxExpansion: Int?
    public var maxLength: Int

    /// Decoded bytes any frame may reach whatever its ratio (16 MiB).
    public static let expansionFloor = 16 << 20
    /// Decoded bytes per frame byte past the floor, for frames from elsewhere.
    public static let untrustedExpansion = 1024

    public init(expectedLength: Int? = nil, maxExpansion: Int? = nil, maxLength: Int = BlobDecodeLimits.machineMemory) {
        self.expectedLength = expectedLength
        self.maxExpansion = maxExpansion
        self.maxLength = maxLength
    }

    /// Frames this registry wrote: only the machine bound (a local blob may legitimately
    /// be one big run of zeros).
    public static let local = BlobDecodeLimits()

    /// Frames from another machine (a pull): the manifest's length when known, and the
    /// expansion cap.
    public static func untrusted(expectedLength: Int?) -> BlobDecodeLimits {
        BlobDecodeLimits(expectedLength: expectedLength, maxExpansion: untrustedExpansion)
    }

    /// Physical memory in bytes.
    public static let machineMemory = Int(clamping: ProcessInfo.processInfo.physicalMemory)

    /// Throws when a frame of `frameSize` bytes with header `h` may not be decoded.
    public func check(_ h: BlobFrameHeader, frameSize: Int) throws(BlobCodecError) {
        if let e = expectedLength, h.rawLength != UInt64(e) { throw .unexpectedLength(declared: h.rawLength, expected: e) }
        if h.rawLength > UInt64(maxLength) {
            throw .exceedsLimit(declared: h.rawLength, limit: maxLength, reason: "more than this machine's memory")
        }
        if let ratio = maxExpansion {
            let (product, overflow) = frameSize.multipliedReportingOverflow(by: ratio)
            let limit = max(Self.expansionFloor, overflow ? .max : product)
            if h.rawLength > UInt64(limit) {
                throw .exceedsLimit(declared: h.rawLength, limit: limit,
                                    reason: "a \(frameSize)-byte frame may expand at most \(ratio)x past \(Self.expansionFloor >> 20) MiB")
            }
        }
    }
}

import CSndFile

/// Writes mono f32 samples as a 16-bit PCM WAV file through libsndfile.
/// Samples are clipped to [-1, 1] (libsndfile's float-to-int clipping is enabled).
public enum WAVWriter {
    /// - Throws: `AudioError.corrupted` (with libsndfile's message) if the file cannot be written.
    public static func write(path: String, samples: [Float], sampleRate: Int = AudioReader.sampleRate) throws(AudioError) {
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = 1
        info.format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        guard let f = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw .corrupted(path: path, detail: "cannot create WAV: \(String(cString: sf_strerror(nil)))")
        }
        sf_command(f, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let written = samples.withUnsafeBufferPointer { sf_writef_float(f, $0.baseAddress, sf_count_t(samples.count)) }
        let closeStatus = sf_close(f)
        if written != sf_count_t(samples.count) || closeStatus != 0 {
            throw .corrupted(path: path, detail: "wrote \(written) of \(samples.count) frames")
        }
    }
}

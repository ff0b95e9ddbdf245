import Foundation
import GlossaCore

extension CTranslate2Whisper {
    /// Writes `checkpoint` as a CTranslate2 Whisper folder that ctranslate2 and faster-whisper
    /// load (`WhisperModel(folder)`), the counterpart of `load(folder:)`:
    ///
    ///     model.bin                  WhisperSpec revision 3: every tensor by `CTranslate2WhisperNames`
    ///                                (q/k/v and cross k/v fused by rows, zero k biases added), the
    ///                                spec's scalars, decoder/projection/weight aliased to the embeddings
    ///     config.json                suppress_ids, suppress_ids_begin, lang_ids (from the tokenizer)
    ///     vocabulary.json            token string of every id (`WhisperVocabulary`)
    ///     tokenizer.json             as stored
    ///     preprocessor_config.json   Whisper's front end: 16 kHz, n_fft 400, hop 160, 30 s, n mel bins
    ///
    /// Tensors keep their dtype (f32, f16 or bf16); the blocks of a fused projection must share
    /// one. `alignment_heads` is not written: ctranslate2 then uses its default heads for word
    /// timestamps (a canonical checkpoint does not carry them). Each file is written crash-safely
    /// into `folder` (created if needed); callers wanting all-or-nothing write into a staging folder.
    public static func write(_ checkpoint: WhisperCheckpoint, to folder: URL) throws(TensorIOError) {
        let c = checkpoint.config
        try WhisperLayout.validate(checkpoint.tensors, config: c, path: folder.path)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(path: folder.path, operation: "create directory", message: (error as NSError).localizedDescription)
        }
        let tokenizerPath = folder.appendingPathComponent("tokenizer.json").path
        let vocabulary = try WhisperVocabulary.tokens(tokenizerJSON: checkpoint.tokenizerJSON, vocabSize: c.vocabSize, path: tokenizerPath)
        let languages = try WhisperVocabulary.languageTokenIDs(tokenizerJSON: checkpoint.tokenizerJSON, path: tokenizerPath)

        let modelPath = folder.appendingPathComponent("model.bin").path
        let variables = try ct2Variables(checkpoint, path: modelPath)
        let names = CTranslate2WhisperNames.self
        try CTranslate2ModelWriter.write(specName: names.specName, revision: names.specRevision, variables: variables,
                                         aliases: [names.projection: names.embeddings], to: modelPath)
        let config: [String: Any] = [
            "suppress_ids": c.suppressTokens, "suppress_ids_begin": c.beginSuppressTokens, "lang_ids": languages,
        ]
        try writeJSON(config, to: folder.appendingPathComponent("config.json"))
        try writeJSON(vocabulary, to: folder.appendingPathComponent("vocabulary.json"))
        let preprocessor: [String: Any] = [
            "feature_extractor_type": "WhisperFeatureExtractor", "processor_class": "WhisperProcessor",
            "feature_size": c.numMelBins, "sampling_rate": 16_000, "n_fft": 400, "hop_length": 160,
            "chunk_length": 30, "n_samples": 480_000, "nb_max_frames": 3000,
            "padding_side": "right", "padding_value": 0.0, "return_attention_mask": false,
        ]
        try writeJSON(preprocessor, to: folder.appendingPathComponent("preprocessor_config.json"))
        try writeAtomically(Data(checkpoint.tokenizerJSON), to: tokenizerPath)
    }

    /// The model.bin variables of a validated checkpoint: tensors renamed (and fused) by the
    /// name table, plus the spec's scalars.
    static func ct2Variables(_ checkpoint: WhisperCheckpoint, path: String) throws(TensorIOError) -> [String: TensorData] {
        let c = checkpoint.config, t = checkpoint.tensors
        var out = [String: TensorData]()
        for entry in CTranslate2WhisperNames.entries(encoderLayers: c.encoderLayers, decoderLayers: c.decoderLayers) {
            switch entry {
            case .tensor(let ct2, let hf):
                out[ct2] = t[hf]!
            case .fused(let ct2, let prefix, let projections):
                let weights = projections.map { t["\(prefix).\($0).weight"]! }
                // Hugging Face has no k_proj bias; CTranslate2 stores zeros for it ([d] in the q bias's dtype).
                let q = t["\(prefix).\(projections.first { $0 != "k_proj" }!).bias"]!
                let biases = projections.map { p in
                    t["\(prefix).\(p).bias"] ?? TensorData(dtype: q.dtype, shape: q.shape, bytes: Data(count: q.bytes.count))
                }
                out[ct2 + "/weight"] = try stackRows(weights, name: ct2 + "/weight", path: path)
                out[ct2 + "/bias"] = try stackRows(biases, name: ct2 + "/bias", path: path)
            }
        }
        for s in CTranslate2WhisperNames.scalars(encoderHeads: c.encoderAttentionHeads, decoderHeads: c.decoderAttentionHeads) {
            out[s.name] = try scalar(s, path: path)
        }
        return out
    }

    /// `blocks` ([n_i, ...] of one dtype) stacked along the first dimension.
    static func stackRows(_ blocks: [TensorData], name: String, path: String) throws(TensorIOError) -> TensorData {
        let first = blocks[0]
        guard blocks.allSatisfy({ $0.dtype == first.dtype && Array($0.shape.dropFirst()) == Array(first.shape.dropFirst()) }) else {
            let found = blocks.map { "\($0.dtype.rawValue)\($0.shape)" }.joined(separator: ", ")
            throw .cTranslate2(path: path, variable: name, message: "the projections fused here differ in dtype or shape "
                               + "(\(found)); convert them to one dtype first")
        }
        var bytes = Data(capacity: blocks.reduce(0) { $0 + $1.bytes.count })
        for b in blocks { bytes.append(b.bytes) }
        var shape = first.shape
        shape[0] = blocks.reduce(0) { $0 + $1.shape[0] }
        return TensorData(dtype: first.dtype, shape: shape, bytes: bytes)
    }

    /// A scalar variable (shape `[]`) holding `s.value` as little-endian `s.dtype`.
    static func scalar(_ s: CTranslate2WhisperNames.Scalar, path: String) throws(TensorIOError) -> TensorData {
        var bytes = Data()
        let misfit = TensorIOError.cTranslate2(path: path, variable: s.name, message: "\(s.value) does not fit \(s.dtype.rawValue)")
        switch s.dtype {
        case .i8:
            guard let v = Int8(exactly: s.value) else { throw misfit }
            bytes.append(UInt8(bitPattern: v))
        case .i16:
            guard let v = Int16(exactly: s.value) else { throw misfit }
            withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        default:
            throw .cTranslate2(path: path, variable: s.name, message: "scalar dtype \(s.dtype.rawValue) is not written (i8, i16)")
        }
        return TensorData(dtype: s.dtype, shape: [], bytes: bytes)
    }
}

import Foundation
import DurableFiles
import GlossaCore

/// Writes a CTranslate2 `model.bin` (binary version 6): the counterpart of
/// `CTranslate2Model`, with the layout, version and dtype codes defined there.
///
/// Variables are written sorted by name, as ctranslate2's own converter does, so a model
/// read and written back unchanged gives the same bytes (whisper-base's model.bin is
/// reproduced to its pinned sha256). It writes whatever the format can represent; meaning
/// (that aliases name variables, that scalars make sense) is the reader's to check. The file
/// is streamed through `AtomicFileWriter` (temp file, fsync, rename): a failure leaves no
/// partial `model.bin`.
enum CTranslate2ModelWriter {
    /// Writes `variables` (scalars have shape `[]`) and `aliases` (alias -> target) to `path`.
    static func write(specName: String, revision: UInt32, variables: [String: TensorData], aliases: [String: String],
                      to path: String) throws(TensorIOError) {
        func fail(_ variable: String?, _ message: String) -> TensorIOError {
            .cTranslate2(path: path, variable: variable, message: message)
        }
        var header = Data()
        try appendU32(CTranslate2Model.supportedVersion, to: &header)
        try appendString(specName, to: &header, path: path)
        try appendU32(revision, to: &header)
        try appendU32(variables.count, to: &header, path: path, what: "variable count")

        // Every check that can refuse the input runs while the temporary file is open; the
        // writer's deinit removes the temporary on any throw, so no partial model.bin is left.
        let file: AtomicFileWriter
        do { file = try AtomicFileWriter(path: path) } catch { throw TensorIOError(error) }
        func put(_ bytes: Data) throws(TensorIOError) {
            do { try file.write(bytes) } catch { throw TensorIOError(error) }
        }
        try put(header)
        for name in variables.keys.sorted() {
            let t = variables[name]!
            guard let code = CTranslate2Model.dtypeCodes.firstIndex(of: t.dtype) else {
                throw fail(name, "dtype \(t.dtype.rawValue) has no CTranslate2 code (f32, i8, i16, i32, f16, bf16)")
            }
            guard t.shape.count <= Int(UInt8.max) else { throw fail(name, "rank \(t.shape.count) does not fit a u8") }
            var meta = Data()
            try appendString(name, to: &meta, path: path)
            meta.append(UInt8(t.shape.count))
            for d in t.shape { try appendU32(d, to: &meta, path: path, what: "dimension of \(name)") }
            meta.append(UInt8(code))
            try appendU32(t.bytes.count, to: &meta, path: path, what: "byte count of \(name)")
            try put(meta)
            try put(t.bytes)
        }
        var tail = Data()
        try appendU32(aliases.count, to: &tail, path: path, what: "alias count")
        for alias in aliases.keys.sorted() {
            try appendString(alias, to: &tail, path: path)
            try appendString(aliases[alias]!, to: &tail, path: path)
        }
        try put(tail)
        do { try file.commit() } catch { throw TensorIOError(error) }
    }

    private static func appendU32(_ x: UInt32, to data: inout Data) throws(TensorIOError) {
        withUnsafeBytes(of: x.littleEndian) { data.append(contentsOf: $0) }
    }

    /// `x` as a little-endian u32; the format cannot hold larger counts (4 GiB per tensor).
    private static func appendU32(_ x: Int, to data: inout Data, path: String, what: String) throws(TensorIOError) {
        guard let v = UInt32(exactly: x) else {
            throw .cTranslate2(path: path, variable: nil, message: "\(what) \(x) does not fit the format's u32")
        }
        try appendU32(v, to: &data)
    }

    /// STR: u16 length (UTF-8 bytes + 1), bytes, NUL.
    private static func appendString(_ s: String, to data: inout Data, path: String) throws(TensorIOError) {
        let bytes = Array(s.utf8)
        guard bytes.count < Int(UInt16.max), !bytes.contains(0) else {
            throw .cTranslate2(path: path, variable: s, message: "name is too long or holds a NUL")
        }
        withUnsafeBytes(of: UInt16(bytes.count + 1).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: bytes + [0])
    }
}

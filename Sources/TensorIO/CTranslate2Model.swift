import Foundation
import GlossaCore

/// A parsed CTranslate2 `model.bin` (binary version 6), memory-mapped.
///
///     u32 version (6)   STR spec name   u32 revision   u32 n_vars
///     n_vars x { STR name, u8 rank, u32 dims[rank], u8 dtype, u32 nbytes, nbytes data }
///     u32 n_aliases     n_aliases x { STR alias, STR target }
///
/// All integers little-endian; STR = u16 length (bytes + 1), UTF-8 bytes, NUL.
/// dtype codes: 0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16.
struct CTranslate2Model {
    struct Variable {
        var name: String
        var dtype: DType
        var shape: [Int]
        /// Absolute byte range in the mapped file.
        var range: Range<Int>
        var isScalar: Bool { shape.isEmpty }
    }

    static let supportedVersion: UInt32 = 6
    /// dtype by its code in the file (the index); `CTranslate2ModelWriter` writes the same codes.
    static let dtypeCodes: [DType] = [.f32, .i8, .i16, .i32, .f16, .bf16]

    let file: MappedFile
    let specName: String
    let revision: UInt32
    /// Variables in file order.
    let variables: [String: Variable]
    /// alias -> target variable name.
    let aliases: [String: String]

    init(path: String) throws(TensorIOError) {
        file = try MappedFile(path: path)
        var r = ByteReader(buffer: file.buffer, path: path)
        let version = try r.u32(what: "binary version")
        guard version == Self.supportedVersion else {
            throw .cTranslate2(path: path, variable: nil,
                               message: "binary version \(version) is not supported (expected \(Self.supportedVersion)); re-convert with a recent ctranslate2")
        }
        specName = try r.string(what: "spec name")
        revision = try r.u32(what: "spec revision")
        let n = try r.u32(what: "variable count")
        var vars = [String: Variable]()
        for _ in 0 ..< n {
            let name = try r.string(what: "variable name")
            let rank = Int(try r.u8(what: "rank of \(name)"))
            var shape = [Int]()
            for _ in 0 ..< rank { shape.append(Int(try r.u32(what: "shape of \(name)"))) }
            let code = try r.u8(what: "dtype of \(name)")
            let dtypes = Self.dtypeCodes
            guard Int(code) < dtypes.count else {
                throw .cTranslate2(path: path, variable: name, message: "unknown dtype code \(code) (known: 0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16)")
            }
            let dtype = dtypes[Int(code)]
            let nbytes = Int(try r.u32(what: "byte count of \(name)"))
            var elements = 1
            for d in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw .cTranslate2(path: path, variable: name, message: "shape \(shape) overflows") }
                elements = p
            }
            guard elements.multipliedReportingOverflow(by: dtype.size) == (nbytes, false) else {
                throw .cTranslate2(path: path, variable: name, message: "\(nbytes) bytes do not match shape \(shape) of \(dtype.rawValue)")
            }
            let range = try r.skip(nbytes, what: "data of \(name)")
            guard vars[name] == nil else { throw .cTranslate2(path: path, variable: name, message: "variable appears twice") }
            vars[name] = Variable(name: name, dtype: dtype, shape: shape, range: range)
        }
        let na = try r.u32(what: "alias count")
        var aliases = [String: String]()
        for _ in 0 ..< na {
            let alias = try r.string(what: "alias name")
            let target = try r.string(what: "alias target of \(alias)")
            guard vars[target] != nil else {
                throw .cTranslate2(path: path, variable: alias, message: "alias points at missing variable '\(target)'")
            }
            aliases[alias] = target
        }
        guard r.offset == file.count else {
            throw .cTranslate2(path: path, variable: nil, message: "\(file.count - r.offset) unexpected bytes after the alias table")
        }
        variables = vars
        self.aliases = aliases
    }

    /// The variable `name`, following an alias if needed.
    func variable(_ name: String) -> Variable? {
        variables[name] ?? aliases[name].flatMap { variables[$0] }
    }

    /// The variable's bytes (no copy) as a tensor.
    func tensor(_ v: Variable) -> TensorData {
        TensorData(dtype: v.dtype, shape: v.shape, bytes: file.data(in: v.range))
    }

    /// Integer value of a scalar variable (i8/i16/i32), if it is one.
    func scalarInt(_ name: String) -> Int? {
        guard let v = variable(name), v.isScalar else { return nil }
        let raw = file.buffer
        switch v.dtype {
        case .i8: return Int(raw.loadUnaligned(fromByteOffset: v.range.lowerBound, as: Int8.self))
        case .i16: return Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: v.range.lowerBound, as: Int16.self)))
        case .i32: return Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: v.range.lowerBound, as: Int32.self)))
        default: return nil
        }
    }
}

/// Bounds-checked little-endian reading from a mapped file.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    let path: String
    var offset = 0

    init(buffer: UnsafeRawBufferPointer, path: String) { self.buffer = buffer; self.path = path }

    private func need(_ n: Int, _ what: String) throws(TensorIOError) {
        guard n >= 0, offset <= buffer.count - n else {
            throw .cTranslate2(path: path, variable: nil, message: "file truncated while reading \(what) at byte \(offset)")
        }
    }

    mutating func u8(what: String) throws(TensorIOError) -> UInt8 {
        try need(1, what); defer { offset += 1 }
        return buffer[offset]
    }

    mutating func u16(what: String) throws(TensorIOError) -> UInt16 {
        try need(2, what); defer { offset += 2 }
        return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    mutating func u32(what: String) throws(TensorIOError) -> UInt32 {
        try need(4, what); defer { offset += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// u16 length (bytes + 1), bytes, NUL.
    mutating func string(what: String) throws(TensorIOError) -> String {
        let n = Int(try u16(what: what))
        guard n >= 1 else { throw .cTranslate2(path: path, variable: nil, message: "\(what) at byte \(offset) has length 0 (no NUL)") }
        try need(n, what)
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[offset ..< offset + n - 1])
        guard buffer[offset + n - 1] == 0, let s = String(validating: bytes, as: UTF8.self) else {
            throw .cTranslate2(path: path, variable: nil, message: "\(what) at byte \(offset) is not a NUL-terminated UTF-8 string")
        }
        offset += n
        return s
    }

    /// Skips `n` bytes, returning their range.
    mutating func skip(_ n: Int, what: String) throws(TensorIOError) -> Range<Int> {
        try need(n, what)
        defer { offset += n }
        return offset ..< offset + n
    }
}

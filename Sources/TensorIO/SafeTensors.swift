import DurableFiles
import Foundation
import GlossaCore

/// The contents of one safetensors file: tensors by name and the optional
/// `__metadata__` string map.
public struct SafeTensorsFile: Sendable, Equatable {
    public var tensors: [String: TensorData]
    /// `__metadata__`, or nil when the file has none.
    public var metadata: [String: String]?

    public init(tensors: [String: TensorData], metadata: [String: String]? = nil) {
        self.tensors = tensors; self.metadata = metadata
    }

    /// Tensor names in sorted order.
    public var names: [String] { tensors.keys.sorted() }
    public subscript(name: String) -> TensorData? { tensors[name] }
}

/// Hugging Face safetensors (https://github.com/huggingface/safetensors):
///
///     u64 LE  N                     header length in bytes
///     N bytes JSON header           {"__metadata__": {str: str}?,
///                                    name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
///                                   padded with spaces so that 8 + N is a multiple of 8
///     data                          little-endian tensor bytes; offsets are relative to here
///
/// Reading maps the file and validates the header completely before any tensor is
/// returned: the length is bounded, every entry has a known dtype, a non-negative shape
/// whose byte size equals its offset range, and the ranges tile the data section exactly
/// (contiguous, non-overlapping, nothing left over).
public enum SafeTensors {
    /// Largest header accepted (the same limit as the reference implementation).
    public static let maxHeaderLength: UInt64 = 100_000_000

    /// Reads `url`, memory-mapped: the returned tensors' bytes point into the mapping,
    /// which stays alive as long as any of them does.
    public static func read(_ url: URL) throws(TensorIOError) -> SafeTensorsFile {
        let file = try MappedFile(path: url.path)
        let header = try parseHeader(file.buffer, path: url.path)
        var tensors = [String: TensorData]()
        tensors.reserveCapacity(header.entries.count)
        for e in header.entries {
            tensors[e.name] = TensorData(dtype: e.dtype, shape: e.shape, bytes: file.data(in: e.range))
        }
        return SafeTensorsFile(tensors: tensors, metadata: header.metadata)
    }

    /// Parses a whole safetensors file held in memory (copies each tensor's bytes).
    /// `path` only labels errors.
    public static func decode(_ data: Data, path: String = "<memory>") throws(TensorIOError) -> SafeTensorsFile {
        let header = try withBytes(of: data) { (raw: UnsafeRawBufferPointer) throws(TensorIOError) in
            try parseHeader(raw, path: path)
        }
        var tensors = [String: TensorData]()
        for e in header.entries {
            let lo = data.startIndex + e.range.lowerBound
            tensors[e.name] = TensorData(dtype: e.dtype, shape: e.shape, bytes: data.subdata(in: lo ..< lo + e.range.count))
        }
        return SafeTensorsFile(tensors: tensors, metadata: header.metadata)
    }

    /// Writes a safetensors file at `url` crash-safely (temporary file, fsync, rename).
    ///
    /// The output is byte-identical to the reference Python writer's: `__metadata__`
    /// (keys sorted) first, then tensors grouped by dtype in descending safetensors dtype
    /// order (U64, I64, F64, F32, ..., I8, U8, BOOL: largest elements first, so every tensor
    /// starts at a multiple of its element size) and sorted by name within a dtype; the
    /// header lists them in the same order as the data.
    public static func write(_ tensors: [String: TensorData], metadata: [String: String]? = nil,
                             to url: URL) throws(TensorIOError) {
        let layout = try plan(tensors, metadata: metadata, path: url.path)
        do {
            let writer = try AtomicFileWriter(path: url.path)
            try writer.write(layout.prefix)
            for name in layout.dataOrder { try writer.write(tensors[name]!.bytes) }
            try writer.commit()
        } catch { throw TensorIOError(error) }
    }

    /// The bytes `write` would produce.
    public static func encode(_ tensors: [String: TensorData], metadata: [String: String]? = nil) throws(TensorIOError) -> Data {
        let layout = try plan(tensors, metadata: metadata, path: "<memory>")
        var out = Data(layout.prefix)
        for name in layout.dataOrder { out.append(tensors[name]!.bytes) }
        return out
    }

    // MARK: - Writing

    private struct Layout {
        /// Length prefix + padded header.
        var prefix: [UInt8]
        var dataOrder: [String]
    }

    private static func plan(_ tensors: [String: TensorData], metadata: [String: String]?, path: String) throws(TensorIOError) -> Layout {
        if tensors["__metadata__"] != nil {
            throw .safeTensors(path: path, key: "__metadata__", problem: .invalidInput("'__metadata__' is reserved and cannot name a tensor"))
        }
        let dataOrder = tensors.keys.sorted { a, b in
            let ra = writeRank(tensors[a]!.dtype), rb = writeRank(tensors[b]!.dtype)
            return ra != rb ? ra > rb : a < b
        }
        var offsets = [String: (Int, Int)]()
        var cursor = 0
        for name in dataOrder {
            let n = tensors[name]!.bytes.count
            offsets[name] = (cursor, cursor + n)
            cursor += n
        }
        var json = "{"
        var first = true
        if let metadata {
            json += JSONText.quote("__metadata__") + ":{"
            json += metadata.keys.sorted().map { JSONText.quote($0) + ":" + JSONText.quote(metadata[$0]!) }.joined(separator: ",")
            json += "}"
            first = false
        }
        for name in dataOrder {
            let t = tensors[name]!
            let (b, e) = offsets[name]!
            if !first { json += "," }
            first = false
            json += JSONText.quote(name) + ":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":["
                + t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(b),\(e)]}"
        }
        json += "}"
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var prefix = [UInt8]()
        prefix.reserveCapacity(8 + header.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix.append(contentsOf: $0) }
        prefix.append(contentsOf: header)
        return Layout(prefix: prefix, dataOrder: dataOrder)
    }

    /// Position of `dtype` in the reference implementation's `Dtype` enum, whose
    /// descending order its writer uses (BOOL < U8 < I8 < I16 < F16 < BF16 < I32 < F32 < F64 < I64).
    private static func writeRank(_ dtype: DType) -> Int {
        switch dtype {
        case .bool: return 0
        case .u8: return 1
        case .i8: return 2
        case .i16: return 5
        case .f16: return 7
        case .bf16: return 8
        case .i32: return 9
        case .f32: return 11
        case .f64: return 12
        case .i64: return 13
        }
    }

    // MARK: - Reading

    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        /// Absolute byte range in the file.
        var range: Range<Int>
    }

    struct Header {
        var entries: [Entry]
        var metadata: [String: String]?
    }

    static func parseHeader(_ file: UnsafeRawBufferPointer, path: String) throws(TensorIOError) -> Header {
        func fail(_ key: String?, _ p: SafeTensorsProblem) -> TensorIOError { .safeTensors(path: path, key: key, problem: p) }
        let size = UInt64(file.count)
        guard size >= 8 else { throw fail(nil, .truncated(needed: 8, have: size)) }
        let n = file.loadUnaligned(as: UInt64.self).littleEndian
        guard n <= maxHeaderLength else { throw fail(nil, .headerTooLarge(length: n, limit: maxHeaderLength)) }
        guard n <= size - 8 else { throw fail(nil, .truncated(needed: 8 + n, have: size)) }
        let dataStart = 8 + Int(n)
        let dataLength = size - UInt64(dataStart)
        let json = Data(UnsafeRawBufferPointer(rebasing: file[8 ..< dataStart]))
        let root: JSONValue
        do { root = try JSONValue.parse(json) } catch {
            throw fail(nil, .headerNotJSON(String(describing: error).prefix(200).description))
        }
        guard let object = root.object else { throw fail(nil, .headerNotObject) }

        var metadata: [String: String]?
        var entries = [Entry]()
        var spans = [(name: String, begin: UInt64, end: UInt64)]()
        for key in object.keys.sorted() {
            let value = object[key]!
            if key == "__metadata__" {
                switch value {
                case .null: metadata = nil
                case .object(let m):
                    var out = [String: String]()
                    for (k, v) in m {
                        guard let s = v.string else { throw fail(key, .metadataNotStringMap) }
                        out[k] = s
                    }
                    metadata = out
                default: throw fail(key, .metadataNotStringMap)
                }
                continue
            }
            guard let fields = value.object else { throw fail(key, .malformedEntry("expected an object")) }
            guard let dtypeName = fields["dtype"]?.string else { throw fail(key, .malformedEntry("missing string 'dtype'")) }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail(key, .unknownDType(dtypeName)) }
            guard let dims = fields["shape"]?.array else { throw fail(key, .malformedEntry("missing array 'shape'")) }
            var shape = [Int]()
            for d in dims {
                guard let v = d.integer else { throw fail(key, .malformedEntry("shape entries must be integers")) }
                shape.append(v)
            }
            guard let offs = fields["data_offsets"]?.array, offs.count == 2,
                  let begin = offs[0].nonNegativeInteger, let end = offs[1].nonNegativeInteger else {
                throw fail(key, .malformedEntry("'data_offsets' must be two non-negative integers"))
            }
            var elements: UInt64 = 1
            for d in shape {
                guard d >= 0 else { throw fail(key, .invalidShape(shape)) }
                let (p, o) = elements.multipliedReportingOverflow(by: UInt64(d))
                guard !o else { throw fail(key, .invalidShape(shape)) }
                elements = p
            }
            let (needed, o) = elements.multipliedReportingOverflow(by: UInt64(dtype.size))
            guard !o else { throw fail(key, .invalidShape(shape)) }
            guard begin <= end, end <= dataLength else {
                throw fail(key, .offsetsOutOfBounds(begin: begin, end: end, dataLength: dataLength))
            }
            guard end - begin == needed else { throw fail(key, .sizeMismatch(expected: needed, actual: end - begin)) }
            spans.append((key, begin, end))
            entries.append(Entry(name: key, dtype: dtype, shape: shape,
                                 range: (dataStart + Int(begin)) ..< (dataStart + Int(end))))
        }
        // The ranges must tile [0, dataLength): sorted by start, each begins where the
        // previous one ended.
        spans.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor: UInt64 = 0
        var previous: String?
        for s in spans {
            if s.begin < cursor { throw fail(s.name, .overlapping(with: previous!)) }
            if s.begin > cursor { throw fail(s.name, .gap(at: cursor)) }
            cursor = s.end
            previous = s.name
        }
        if cursor != dataLength { throw fail(nil, .gap(at: cursor)) }
        return Header(entries: entries, metadata: metadata)
    }
}

import Foundation

/// The one f32 <-> f16 / bf16 conversion of the package. Whole models go through it
/// (widening a checkpoint at load, narrowing one for export), so each dtype is one plain
/// loop over the elements with no branch inside: with F16C (x86-64 built with
/// `GLOSSA_CPU`, see Package.swift) `Float(Float16)` is `vcvtph2ps` and the loops vectorise.
///
/// Rounding: narrowing rounds to nearest, ties to even, as torch's `.to(float16 / bfloat16)`;
/// values past the range become ±infinity, NaN stays NaN, subnormals are kept (f16 has them;
/// bf16 shares f32's exponent, so only its mantissa is rounded). Widening is exact.
extension TensorData {
    /// An f32 tensor holding `values` (row-major for `shape`).
    public static func float32(shape: [Int], _ values: [Float]) -> TensorData {
        precondition(values.count == shape.reduce(1, *), "float32: \(values.count) values for shape \(shape)")
        // x86-64 and arm64 are little-endian: the in-memory floats are the stored bytes.
        return TensorData(dtype: .f32, shape: shape, bytes: values.withUnsafeBytes { Data($0) })
    }

    /// Every element widened to Float: exact for f32, f16, bf16, i8, i16, u8 and bool; f64,
    /// i32 and i64 round to the nearest f32.
    public func floats() -> [Float] {
        let n = count
        guard n > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: n) { out, done in
            HugePages.advise(UnsafeMutableRawBufferPointer(out))   // a model's weights: written whole, now
            bytes.withUnsafeBytes { raw in
                // Loads through the base pointer: `UnsafeRawBufferPointer.loadUnaligned` checks
                // its bounds on every element, and that check keeps the loops from vectorising.
                let src = raw.baseAddress!, dst = out.baseAddress!
                @inline(__always) func each<T>(_: T.Type, _ f: (T) -> Float) {
                    for i in 0 ..< n { dst[i] = f(src.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self)) }
                }
                switch dtype {
                case .f32: each(UInt32.self) { Float(bitPattern: UInt32(littleEndian: $0)) }
                case .f16: each(UInt16.self) { Float(Float16(bitPattern: UInt16(littleEndian: $0))) }
                case .bf16: each(UInt16.self) { Self.float(bfloat16: UInt16(littleEndian: $0)) }
                case .f64: each(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
                case .i8: each(Int8.self) { Float($0) }
                case .u8, .bool: each(UInt8.self) { Float($0) }
                case .i16: each(Int16.self) { Float(Int16(littleEndian: $0)) }
                case .i32: each(Int32.self) { Float(Int32(littleEndian: $0)) }
                case .i64: each(Int64.self) { Float(Int64(littleEndian: $0)) }
                }
            }
            done = n
        }
    }

    /// `self` with its elements in `target`, for the float types f32, f16 and bf16 in either
    /// direction (f16 <-> bf16 goes through f32, which holds both exactly). Same dtype, or
    /// a non-float source or target, returns `self` unchanged.
    public func converted(to target: DType) -> TensorData {
        let floating: Set<DType> = [.f32, .f16, .bf16]
        guard target != dtype, floating.contains(dtype), floating.contains(target) else { return self }
        let wide = dtype == .f32 ? nil : floats()
        func narrowed(_ f: (Float) -> UInt16) -> Data {
            var out = Data(count: 2 * count)
            guard count > 0 else { return out }
            out.withUnsafeMutableBytes { raw in
                let dst = raw.baseAddress!.assumingMemoryBound(to: UInt16.self)   // Data's own buffer: aligned
                if let wide {
                    for i in wide.indices { dst[i] = f(wide[i]).littleEndian }
                } else {
                    bytes.withUnsafeBytes { s in
                        let src = s.baseAddress!   // as in floats(): no per-element bounds check
                        for i in 0 ..< count {
                            dst[i] = f(Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))).littleEndian
                        }
                    }
                }
            }
            return out
        }
        switch target {
        case .f16: return TensorData(dtype: .f16, shape: shape, bytes: narrowed { Float16($0).bitPattern })
        case .bf16: return TensorData(dtype: .bf16, shape: shape, bytes: narrowed(Self.bfloat16))
        default: return .float32(shape: shape, wide!)
        }
    }

    /// bf16 bits -> f32: bf16 is the upper half of an f32, so widening is a shift.
    @inline(__always)
    public static func float(bfloat16 bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// f32 -> bf16 bits, rounding to nearest even on the 16 dropped bits (a carry out of the
    /// mantissa bumps the exponent, so the largest finite values round to infinity). NaN is
    /// kept quiet with its sign (a plain truncation could turn a NaN into infinity).
    @inline(__always)
    public static func bfloat16(_ f: Float) -> UInt16 {
        let b = f.bitPattern
        if f.isNaN { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }
}

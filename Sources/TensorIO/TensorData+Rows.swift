import Foundation
import GlossaCore

extension TensorData {
    /// Rows `rows` of a tensor whose first dimension indexes rows, copied into fresh
    /// storage (so `bytes.startIndex` is 0 like every other TensorData).
    func rows(_ rows: Range<Int>) -> TensorData {
        precondition(!shape.isEmpty && rows.lowerBound >= 0 && rows.upperBound <= shape[0])
        let rowBytes = shape.dropFirst().reduce(1, *) * dtype.size
        let lo = bytes.startIndex + rows.lowerBound * rowBytes
        var s = shape
        s[0] = rows.count
        return TensorData(dtype: dtype, shape: s, bytes: bytes.subdata(in: lo ..< lo + rows.count * rowBytes))
    }
}

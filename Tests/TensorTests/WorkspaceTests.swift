import XCTest
@testable import Tensor

final class WorkspaceTests: XCTestCase {
    /// Buffers are 64-byte aligned, in order, and disjoint: filling each with its own value
    /// leaves every other intact (odd sizes included, and an empty one).
    func testBuffersAreAlignedAndDisjoint() {
        let counts = [1, 17, 0, 1000, 3]
        withWorkspace(counts) { w in
            XCTAssertEqual(w.count, counts.count)
            for (k, p) in w.enumerated() {
                XCTAssertEqual(Int(bitPattern: p) % 64, 0, "buffer \(k)")
                if k > 0 { XCTAssertGreaterThanOrEqual(p, w[k - 1] + counts[k - 1]) }
                for i in 0..<counts[k] { p[i] = Float(k) }
            }
            for (k, p) in w.enumerated() {
                for i in 0..<counts[k] { XCTAssertEqual(p[i], Float(k), "buffer \(k) element \(i)") }
            }
        }
        XCTAssertEqual(withWorkspace([]) { $0.count }, 0)
    }
}

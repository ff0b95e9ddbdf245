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

    /// A workspace of several MB (the encoder's) asks for huge pages; it is a fresh mapping
    /// each call (VmFlags `hg` in /proc/self/smaps, whatever the THP mode).
    func testLargeWorkspacesAdviseHugePages() throws {
        try withWorkspace([3 << 20]) { w in   // 12 MB
            XCTAssertTrue(try MemoryMaps.hugePagesAdvised(UnsafeRawBufferPointer(start: w[0], count: 12 << 20)))
        }
    }
}

import XCTest
@testable import GlossaCore

final class DigestTests: XCTestCase {
    func testKnownSHA256() {
        // sha256("abc") from FIPS 180-2, appendix B.1.
        XCTAssertEqual(Digest(of: Array("abc".utf8)).description,
                       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testStreamingMatchesOneShot() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var h = DigestHasher()
        h.update(bytes[..<3333]); h.update(bytes[3333...])
        XCTAssertEqual(h.finalize(), Digest(of: bytes))
    }

    func testParsingRejectsMalformed() throws {
        let good = "sha256:" + String(repeating: "a", count: 64)
        XCTAssertEqual(try Digest(parsing: good).description, good)
        for bad in ["", "sha256:", "sha256:" + String(repeating: "A", count: 64), "md5:" + String(repeating: "a", count: 64),
                    "sha256:" + String(repeating: "a", count: 63), "sha256:../" + String(repeating: "a", count: 61)] {
            XCTAssertThrowsError(try Digest(parsing: bad), bad)
        }
    }
}

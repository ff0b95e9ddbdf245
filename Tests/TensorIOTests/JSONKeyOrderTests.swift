import XCTest
@testable import TensorIO

final class JSONKeyOrderTests: XCTestCase {
    func testKeysComeBackInFileOrder() {
        let text = #"{"a": [1, {"x": "}"}], "rank_pattern": {"z\"q": 1, "fc1": 2, "b.c": {"n": [3]}, "a": null}, "t": true}"#
        XCTAssertEqual(JSONKeyOrder.keys(ofObjectAt: "rank_pattern", in: Array(text.utf8)), ["z\"q", "fc1", "b.c", "a"])
        XCTAssertEqual(JSONKeyOrder.keys(ofObjectAt: "t", in: Array(text.utf8)), nil)
        XCTAssertEqual(JSONKeyOrder.keys(ofObjectAt: "rank_pattern", in: Array(#"{"rank_pattern": {}}"#.utf8)), [])
        XCTAssertNil(JSONKeyOrder.keys(ofObjectAt: "rank_pattern", in: Array(#"{"rank_pattern": {"a": 1"#.utf8)))
        XCTAssertNil(JSONKeyOrder.keys(ofObjectAt: "rank_pattern", in: Array("[1]".utf8)))
    }
}

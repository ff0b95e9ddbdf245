import XCTest
@testable import TensorIO


import XCTest
@testable import Eval


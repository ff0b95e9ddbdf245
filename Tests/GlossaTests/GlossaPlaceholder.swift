import XCTest
@testable import Glossa


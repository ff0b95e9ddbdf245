import XCTest
@testable import OCI


import XCTest
@testable import Whisper


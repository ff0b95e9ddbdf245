import ArgumentParser
import Foundation
import Glossa

/// Prints a facade error on stderr and exits with the code of its category.
struct CLIError: Error, CustomStringConvertible {
    let error: GlossaError
    init(_ error: GlossaError) { self.error = error }
    var description: String { error.message }

    var exitCode: ExitCode {
        switch error.category {
        case .invalidInput: return GlossaExit.dataError
        case .notFound: return GlossaExit.notFound
        case .unavailable: return GlossaExit.unavailable
        case .busy: return GlossaExit.tempFailure
        case .failure: return GlossaExit.failure
        }
    }
}

/// Runs `body`, turning facade errors into a message on stderr and the documented exit code.
func reporting<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as CLIError {
        Console.log("error: \(e.description)")
        throw e.exitCode
    } catch let e as GlossaError {
        Console.log("error: \(e.message)")
        throw CLIError(e).exitCode
    }
}

import ArgumentParser
import Foundation

/// `--registry PATH`; falls back to $GLOSSA_REGISTRY, then ./registry.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Registry folder. Default: $GLOSSA_REGISTRY, else ./registry.", valueName: "PATH"))
    var registry: String?

    var path: URL {
        if let registry { return URL(fileURLWithPath: registry) }
        if let env = ProcessInfo.processInfo.environment["GLOSSA_REGISTRY"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return URL(fileURLWithPath: "registry")
    }
}

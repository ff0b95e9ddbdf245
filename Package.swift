// swift-tools-version:6.0
// Glossa: a registry, composer and runtime for LoRA language experts on Whisper.
//
// Layers (dependencies point down only):
//   glossa (CLI)        argv, output, exit codes
//   Glossa (facade)     registry, composer, bundles: wires the layers below
//   OCI                 remote registry driver (OCI distribution protocol)
//   Store               content-addressed blob store + SQLite catalog
//   Eval                normalisers, WER/CER, reports
//   Training, Compose   LoRA training (on Whisper's model) and merge math
//   Whisper             audio front end, tokenizer, model, decoding
//   TensorIO            safetensors, CTranslate2, PEFT, HF folders <-> TensorData
//   Tensor              f32 dense tensors and ops; the only module that calls BLAS
//   GlossaCore          pure value types: digests, dtypes, manifests, errors
//   CBLAS CZstd CXXHash CSndFile CSoxr CSodium   C headers of Debian libraries; CIntrinsics (F16C widening, prefetch); CMalloc (glibc mallopt)
import PackageDescription

// CPU target of the numeric targets: opt-in, so the default manifest has no unsafeFlags and
// other packages can depend on `Glossa` (SwiftPM refuses unsafeFlags in dependencies).
// GLOSSA_CPU=haswell (AVX2 + FMA: Intel 2013+, AMD 2015+) makes the element-wise loops (GELU,
// softmax, layer norm, mel, byte planes, f16 conversion) vectorise 8 floats wide instead of
// SSE2's 4: ~35% less element-wise time in the encoder (`TrainBench 1 profile`), and compiles the
// register-tiled attention (CIntrinsics/attention_tiles.h; BLAS per head otherwise). The Makefile,
// .ci/run, scripts/ and bench/ set it for glossa's own builds (scripts/cpu.sh picks it from
// /proc/cpuinfo); any `-target-cpu` name works, and empty or unset builds for the baseline CPU.
let cpu: [SwiftSetting] = (Context.environment["GLOSSA_CPU"] ?? "").isEmpty
    ? [] : [.unsafeFlags(["-target-cpu", Context.environment["GLOSSA_CPU"]!])]

let package = Package(
    name: "Glossa",
    products: [
        .executable(name: "glossa", targets: ["glossa"]),
        .library(name: "Glossa", targets: ["Glossa"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C libraries from Debian. OpenBLAS is loaded with dlopen by Tensor (see
        // Tensor/BLASLibrary.swift) so the core type can be chosen before it initialises;
        // its module map therefore names headers only.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CXXHash", path: "Sources/CXXHash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CSndFile", path: "Sources/CSndFile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSoxr", path: "Sources/CSoxr", providers: [.apt(["libsoxr-dev"])]),
        // BLAKE2b (crypto_generichash) for minisign-compatible signatures; Ed25519 itself is swift-crypto's.
        .systemLibrary(name: "CSodium", path: "Sources/CSodium", providers: [.apt(["libsodium-dev"])]),
        // Header-only: 8-lane f16 -> f32 widening with F16C when the build's CPU target has it.
        .systemLibrary(name: "CIntrinsics", path: "Sources/CIntrinsics"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),

        .target(name: "GlossaCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The one crash-safe write protocol (temp, fsync, rename, directory fsync) every module
        // that writes files uses; kept out of GlossaCore, which does no I/O.
        .target(name: "DurableFiles"),
        .target(name: "Tensor", dependencies: ["GlossaCore", "CBLAS", "CIntrinsics"], swiftSettings: cpu),
        .target(name: "TensorIO", dependencies: ["GlossaCore", "DurableFiles"], swiftSettings: cpu),
        .target(name: "Whisper", dependencies: ["GlossaCore", "Tensor", "TensorIO", "CSndFile", "CSoxr"], swiftSettings: cpu),
        // Training runs on the runtime's model (weights, names, encoder): one model definition.
        .target(name: "Training", dependencies: ["GlossaCore", "Tensor", "TensorIO", "Whisper", "DurableFiles"], swiftSettings: cpu),
        .target(name: "Compose", dependencies: ["GlossaCore", "Tensor"], swiftSettings: cpu),
        .target(name: "Store", dependencies: [
            "GlossaCore", "CZstd", "CXXHash", "CIntrinsics", "DurableFiles",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: cpu),
        .target(name: "OCI", dependencies: ["GlossaCore", "Store", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Eval", dependencies: ["GlossaCore"]),
        .target(name: "Glossa", dependencies: [
            "GlossaCore", "DurableFiles", "Tensor", "TensorIO", "Whisper", "Training", "Compose", "Store", "OCI", "Eval", "CSodium", "CMalloc",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "glossa", dependencies: [
            "Glossa",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Training-step benchmark against PyTorch + peft (bench/train/run.sh).
        .executableTarget(name: "TrainBench", dependencies: ["Glossa", "Training", "Tensor", "GlossaCore", "Whisper", "TensorIO", "WhisperTesting"],
                          path: "bench/train/TrainBench"),
        // Runtime benchmark harness (bench/transcribe/run.sh); not a product.
        .executableTarget(name: "WhisperBench", dependencies: ["Glossa", "Whisper", "TensorIO", "Tensor", "GlossaCore"],
                          path: "bench/transcribe/WhisperBench"),

        .testTarget(name: "GlossaCoreTests", dependencies: ["GlossaCore"]),
        .testTarget(name: "DurableFilesTests", dependencies: ["DurableFiles"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        // The one random-checkpoint builder (TinyWhisper), for tests and benchmarks; not a product.
        .target(name: "WhisperTesting", dependencies: ["GlossaCore", "TensorIO"], path: "Tests/WhisperTesting"),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "WhisperTesting"], resources: [.copy("Golden")]),
        .testTarget(name: "WhisperTests", dependencies: ["Whisper", "WhisperTesting"], resources: [.copy("Golden")]),
        // Store driver conformance suite (reused by every driver's tests) and the
        // multi-process stress tool the trust tests spawn.
        .target(name: "StoreTesting", dependencies: ["Store", "GlossaCore"], path: "Tests/StoreTesting"),
        .executableTarget(name: "glossa-store-stress", dependencies: ["Store", "StoreTesting", "GlossaCore"], path: "Tests/StoreStress"),
        // Benchmarks (bench/*/run.sh builds and runs them in release).
        .executableTarget(name: "glossa-bench-codec", dependencies: ["Store", "GlossaCore"], path: "bench/codec/Sources"),
        .executableTarget(name: "glossa-bench-catalog", dependencies: ["Store", "StoreTesting", "GlossaCore"], path: "bench/catalog/Sources"),
        .testTarget(name: "StoreTests", dependencies: ["Store", "StoreTesting", "GlossaCore", "glossa-store-stress"]),
        .executableTarget(name: "glossa-bench-oci", dependencies: ["OCI", "GlossaCore"], path: "bench/oci/Sources"),
        // Parser fuzz targets (fuzz/run.sh builds them with libFuzzer; a plain build is a replay tool).
        // SwiftPM renames an executable's entry point and links `main` to it, so the fuzzing
        // build hands argv to libFuzzer itself (LLVMFuzzerRunDriver, declared in CFuzzerDriver).
        .systemLibrary(name: "CFuzzerDriver", path: "fuzz/CFuzzerDriver"),
        .executableTarget(name: "glossa-fuzz", dependencies: ["GlossaCore", "TensorIO", "Store", "OCI", "Whisper", "CFuzzerDriver"],
                          path: "fuzz/Sources"),
        .testTarget(name: "OCITests", dependencies: ["OCI", "Store", "StoreTesting"]),
        .testTarget(name: "EvalTests", dependencies: ["Eval"]),
        // Golden/ is read by path (HFExportGoldenTests), not bundled.
        .testTarget(name: "GlossaTests", dependencies: ["Glossa", "DurableFiles", "TensorIO", "WhisperTesting", "Store", "GlossaCore", "Training", "Tensor", "Whisper"],
                    exclude: ["Golden"]),
        .testTarget(name: "ComposeTests", dependencies: ["Compose", "Tensor", "GlossaCore"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Whisper", "TensorIO", "Tensor", "WhisperTesting"], resources: [.copy("Golden")]),
    ],
    swiftLanguageModes: [.v6]
)

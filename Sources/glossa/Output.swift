import Foundation
import Synchronization

/// Where the CLI writes: results to stdout, logs and progress to stderr.
struct Console {
    var json: Bool

    func result(_ text: String) { print(text) }

    /// Machine output: one JSON document on stdout, keys sorted for stable diffs; `compact`
    /// puts it on one line (JSON Lines, for results streamed one per line).
    func emit<T: Encodable>(_ value: T, compact: Bool = false) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.dateEncodingStrategy = .iso8601
        let data = try enc.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static func log(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal
/// (so logs and CI output stay clean). Safe to update from worker threads.
final class ProgressBar: Sendable {
    private struct State { var total: Int; var lastDraw = Date.distantPast }
    private let state: Mutex<State>
    private let label: String
    private let enabled: Bool
    private let start = Date()

    init(total: Int, label: String) {
        self.state = Mutex(State(total: max(total, 1)))
        self.label = label
        self.enabled = isatty(2) == 1
    }

    /// Updates when the total is only known as work proceeds.
    func updateTotal(_ done: Int, _ newTotal: Int) {
        state.withLock { $0.total = max(newTotal, 1) }
        update(done)
    }

    func update(_ done: Int, detail: String = "") {
        guard enabled else { return }
        let now = Date()
        let line: String? = state.withLock { st in
            guard done >= st.total || now.timeIntervalSince(st.lastDraw) > 0.1 else { return nil }
            st.lastDraw = now
            let frac = Double(min(done, st.total)) / Double(st.total)
            let width = 30
            let filled = Int(frac * Double(width))
            let elapsed = now.timeIntervalSince(start)
            let eta = frac > 0 ? elapsed / frac - elapsed : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            return "\r\(label) [\(bar)] \(done)/\(st.total) \(Int(frac * 100))% eta \(Self.clock(eta)) \(detail)"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return String(format: "%d:%02d", t / 60, t % 60)
    }
}

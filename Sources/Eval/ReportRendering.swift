import Foundation

/// Text renderings of eval reports: Markdown tables and an SVG bar chart.
/// Pure functions of their input (no clock, no files).
public enum ReportRendering {
    static func percent(_ x: Double) -> String { String(format: "%.1f", x * 100) }

    static func escapeMarkdown(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    /// One report: a row per language plus an overall row.
    ///
    ///     | language | unit | utterances | error % | sub | del | ins | ref units | LID % |
    public static func markdown(_ r: EvalReport) -> String {
        var out = "### \(escapeMarkdown(r.model.name)) on \(escapeMarkdown(r.dataset))\n\n"
        out += "Mode: \(r.settings.mode), beam \(r.settings.beamSize), normaliser \(r.settings.normalizer)"
        if let t = r.timing { out += ", RTF \(String(format: "%.3f", t.rtf)) (\(String(format: "%.1f", t.audioSeconds)) s of audio)" }
        out += "\n\n| language | unit | utterances | error % | sub | del | ins | ref units | LID % |\n"
        out += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for l in r.languages {
            let s = l.score
            let rate = s.unit == .word ? "WER " : "CER "
            out += "| \(l.language) | \(s.unit.rawValue) | \(s.utterances) | \(rate)\(percent(s.errorRate)) | \(s.counts.substitutions) | \(s.counts.deletions) | \(s.counts.insertions) | \(s.counts.referenceLength) | \(s.lidAccuracy.map(percent) ?? "-") |\n"
        }
        let o = r.overall
        var overallRate: [String] = []
        if let w = o.wer { overallRate.append("WER \(percent(w))") }
        if let c = o.cer { overallRate.append("CER \(percent(c))") }
        let pooled = (o.word ?? EditCounts()) + (o.character ?? EditCounts())
        out += "| **all** | | \(o.utterances) | \(overallRate.joined(separator: ", ")) (macro \(percent(o.macroErrorRate))) | \(pooled.substitutions) | \(pooled.deletions) | \(pooled.insertions) | \(pooled.referenceLength) | \(o.lidAccuracy.map(percent) ?? "-") |\n"
        return out
    }

    /// Several models side by side: a row per language, a column per model (error %).
    public static func markdownComparison(_ reports: [EvalReport]) -> String {
        let languages = Array(Set(reports.flatMap { $0.languages.map(\.language) })).sorted()
        var out = "| language | " + reports.map { escapeMarkdown($0.model.name) }.joined(separator: " | ") + " |\n"
        out += "|---|" + String(repeating: "---:|", count: reports.count) + "\n"
        for lang in languages {
            let cells = reports.map { r in r.languages.first { $0.language == lang }.map { percent($0.score.errorRate) } ?? "-" }
            out += "| \(lang) | " + cells.joined(separator: " | ") + " |\n"
        }
        out += "| **macro** | " + reports.map { percent($0.overall.macroErrorRate) }.joined(separator: " | ") + " |\n"
        return out
    }

    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Colour-blind-safe palette (Okabe-Ito), one colour per model.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

    /// A grouped bar chart of error rate (%) per language, one bar per model, as SVG text.
    /// Character-scored languages are marked "(CER)" under their label.
    public static func svgBarChart(_ reports: [EvalReport], title: String = "Error rate per language") -> String {
        let languages = Array(Set(reports.flatMap { $0.languages.map(\.language) })).sorted()
        let charLangs = Set(reports.flatMap { $0.languages.filter { $0.score.unit == .character }.map(\.language) })
        func rate(_ r: EvalReport, _ lang: String) -> Double? { r.languages.first { $0.language == lang }?.score.errorRate }
        let maxRate = reports.flatMap { r in languages.compactMap { rate(r, $0) } }.max() ?? 0
        // Axis top: a "nice" multiple of 10/20/50 % above the largest bar.
        let topPercent = max(10, maxRate * 100)
        let step: Double = topPercent <= 50 ? 10 : topPercent <= 150 ? 25 : 50
        let axisTop = (topPercent / step).rounded(.up) * step

        let barWidth = 18.0, barGap = 2.0, groupGap = 22.0
        let groupWidth = Double(max(reports.count, 1)) * (barWidth + barGap) - barGap
        let left = 60.0, right = 20.0, top = 50.0, plotHeight = 260.0
        let legendHeight = 22.0 * Double(reports.count)
        let bottom = 60.0 + legendHeight
        let plotWidth = max(Double(languages.count) * (groupWidth + groupGap) + groupGap, 240)
        let width = left + plotWidth + right, height = top + plotHeight + bottom
        func y(_ percent: Double) -> Double { top + plotHeight * (1 - min(percent, axisTop) / axisTop) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="#ffffff"/>
        <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(xml(title))</text>

        """
        // Grid lines and y labels.
        var tick = 0.0
        while tick <= axisTop + 1e-9 {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(tick)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y(tick)))\" stroke=\"#dddddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\">\(Int(tick))%</text>\n"
            tick += step
        }
        s += "<text transform=\"translate(16 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">WER / CER (%)</text>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\" stroke=\"#333333\"/>\n"
        // Bars.
        for (g, lang) in languages.enumerated() {
            let gx = left + groupGap + Double(g) * (groupWidth + groupGap)
            for (m, r) in reports.enumerated() {
                guard let v = rate(r, lang) else { continue }
                let x = gx + Double(m) * (barWidth + barGap)
                let p = v * 100
                let clipped = p > axisTop
                s += "<rect x=\"\(f(x))\" y=\"\(f(y(p)))\" width=\"\(f(barWidth))\" height=\"\(f(top + plotHeight - y(p)))\" fill=\"\(palette[m % palette.count])\"><title>\(xml(r.model.name)) \(xml(lang)): \(percent(v))%</title></rect>\n"
                s += "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(y(p) - 4))\" text-anchor=\"middle\" font-size=\"9\">\(Int(p.rounded()))\(clipped ? "+" : "")</text>\n"
            }
            s += "<text x=\"\(f(gx + groupWidth / 2))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\" font-size=\"13\">\(xml(lang))</text>\n"
            if charLangs.contains(lang) {
                s += "<text x=\"\(f(gx + groupWidth / 2))\" y=\"\(f(top + plotHeight + 32))\" text-anchor=\"middle\" font-size=\"9\">(CER)</text>\n"
            }
        }
        // Legend.
        for (m, r) in reports.enumerated() {
            let ly = top + plotHeight + 48 + Double(m) * 22
            s += "<rect x=\"\(f(left))\" y=\"\(f(ly))\" width=\"14\" height=\"14\" fill=\"\(palette[m % palette.count])\"/>\n"
            s += "<text x=\"\(f(left + 20))\" y=\"\(f(ly + 11))\">\(xml(r.model.name)) (macro \(percent(r.overall.macroErrorRate))%)</text>\n"
        }
        s += "</svg>\n"
        return s
    }
}

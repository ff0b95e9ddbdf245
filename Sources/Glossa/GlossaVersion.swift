/// The tool version recorded in provenance and reports.
public enum GlossaVersion {
    public static let string = "0.1.0"
    public static var tool: String { "glossa " + string }
}

/// Whisper language codes, in the order of Whisper's `LANGUAGES` table
/// (`whisper/tokenizer.py`); the multilingual tokenizers carry one `<|code|>` token for
/// each. The first 99 are those of whisper tiny..large-v2 (checked against
/// whisper-base's `tokenizer.json`); `yue` (Cantonese) was added with large-v3.
public enum WhisperLanguage {
    public static let codes: [String] = [
        "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it",
        "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur",
        "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn",
        "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si",
        "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo",
        "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha",
        "ba", "jw", "su", "yue",
    ]

    /// ISO 639-2 "multiple languages": the `language` of an adapter trained on several.
    public static let multiple = "mul"

    /// The same codes as a set, for membership tests.
    public static let all: Set<String> = Set(codes)

    /// True when `code` is one of Whisper's language codes (lower case, e.g. `de`, `haw`).
    public static func isValid(_ code: String) -> Bool { all.contains(code) }
}

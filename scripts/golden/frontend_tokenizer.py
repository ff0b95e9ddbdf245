#!/usr/bin/env python3
"""Golden token ids from Hugging Face `tokenizers` for Whisper's tokenizer.json.

Writes Tests/WhisperTests/Golden/tokenizer/tokenizer_golden.json with
  encode: [{"text", "ids"}]  every line of corpus/sentences/*.txt plus tricky strings,
          encoded with add_special_tokens=False (no SOT/EOT template);
  decode: [{"ids", "text", "text_skip_special"}]  including ids that split UTF-8
          characters and special tokens.
Run: .venv/bin/python scripts/golden/frontend_tokenizer.py [path/to/tokenizer.json]
"""
import glob, hashlib, json, os, random, sys
from tokenizers import Tokenizer
import tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests/WhisperTests/Golden/tokenizer/tokenizer_golden.json")

TRICKY = [
    "", " ", "  ", "   ", "\t", "\n", "\r\n", " \n ", "a  b", "a   b", "a\t\tb", "a \tb", "a\u00a0b", "a \u00a0b",
    "  leading and trailing  ", "hello world", "Hello World!", "HELLO", "don't", "I'm", "we'll", "they've", "you're",
    "he'd", "it's", "IT'S", "DON'T", "l'homme", "aujourd'hui", "rock 'n' roll", "'s'", "''", "'''s", "dog's  'll",
    "It\u2019s the dog\u2019s", "«Bonjour», dit-il.", "„Guten Tag“, sagte sie.", "¿Qué tal? ¡Muy bien!",
    "Ça, c'est la vie: déjà-vu à Noël.", "Zażółć gęślą jaźń", "Žluťoučký kůň úpěl ďábelské ódy",
    "Straße, Grüße, Äpfel, Öl, Übermut", "Ångström ø æ œ ß ĳ", "Привет, как дела? Всё хорошо!", "Ёлка и йогурт",
    "Γειά σου Κόσμε", "שלום עולם", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีครับ", "안녕하세요 세계",
    "你好，世界！今天天气很好。", "日本語のテキスト、カタカナとひらがな。", "混合 text 与 English 123",
    "emoji 😀👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ ✨", "e\u0301cole (decomposed)", "\u200bzero\u200dwidth\ufeff",
    "numbers 1234567 3.14159 1,000,000 ٣٤٥ ½ Ⅻ ²", "tabs\tand\nnewlines\n\nmixed \t \n end",
    "punctuation!!! ??? ... --- *** ### $$$ %%% &&& (parens) [brackets] {braces} <angle>",
    "<|en|>", "<|startoftranscript|><|fr|><|transcribe|><|notimestamps|> Bonjour.<|endoftext|>",
    "text<|endoftext|>more", "<|en|<|de|>", "<|nottoken|>", "a<|", "snake_case and camelCase and kebab-case",
    "https://example.com/path?q=1&r=2", "user@example.org", "C++ / C# / F#", "   \u3000全角スペース",
    "x" * 300, "ab" * 100, " ".join(["word"] * 50),
]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models/whisper-base-ct2/tokenizer.json")
    tok = Tokenizer.from_file(path)
    texts = []
    for f in sorted(glob.glob(os.path.join(ROOT, "corpus/sentences/*.txt"))):
        with open(f, encoding="utf-8") as fh:
            texts += [line.rstrip("\n") for line in fh if line.strip()]
    texts += TRICKY
    encode = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts]

    rng = random.Random(1234)
    decode = []
    for t in TRICKY[40:60]:
        ids = tok.encode(t, add_special_tokens=False).ids
        for cut in sorted({len(ids), max(0, len(ids) - 1), len(ids) // 2, 1}):
            decode.append(ids[:cut])
    # Prompts with special tokens around text, and ids beyond tokenizer.json (timestamps) are left out
    # here because HF raises on them; the Swift test checks those separately.
    sot = tok.token_to_id("<|startoftranscript|>")
    for t in ["Bonjour le monde.", " Привет!", "你好"]:
        ids = tok.encode(t, add_special_tokens=False).ids
        decode.append([sot, tok.token_to_id("<|fr|>"), tok.token_to_id("<|transcribe|>")] + ids + [tok.token_to_id("<|endoftext|>")])
    for _ in range(30):
        decode.append([rng.randrange(0, tok.get_vocab_size()) for _ in range(rng.randrange(1, 12))])
    decode = [{"ids": ids, "text": tok.decode(ids, skip_special_tokens=False),
               "text_skip_special": tok.decode(ids, skip_special_tokens=True)} for ids in decode]

    meta = {"generator": "scripts/golden/frontend_tokenizer.py", "tokenizers": tokenizers.__version__,
            "tokenizer_json_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "encode": encode, "decode": decode}, f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {OUT}: {len(encode)} encode, {len(decode)} decode cases ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Golden values for the Swift Whisper runtime, from CTranslate2 on the real whisper-base.

For each of 9 languages x 3 espeak-ng sentences it stores (Tests/WhisperTests/Golden/model/):
  features_<lang>.safetensors  log-mel features from transformers' WhisperFeatureExtractor
      (audio zero-padded to 30 s before the STFT), rounded to f16 and trimmed: only the first
      `frames` columns vary, the rest equal `fill` exactly (checked here). CTranslate2 is fed
      the same f16-rounded values, so the comparison is exact in its inputs.
  ct2.json  per clip: prompt, greedy tokens/score/no-speech prob, the top-2 log-prob margin at
      each greedy step (to explain near ties), beam-5 tokens/score, detect_language top 3;
      and for clip 0 a few encoder output rows + summary statistics.

Run: .venv/bin/python scripts/golden/model_ct2.py [models/whisper-base-ct2]
"""
import json, os, subprocess, sys, tempfile, wave
import numpy as np
import ctranslate2
from safetensors.numpy import save_file
from tokenizers import Tokenizer
from transformers import WhisperFeatureExtractor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models", "whisper-base-ct2")
OUT = os.path.join(ROOT, "Tests", "WhisperTests", "Golden", "model")

SENTENCES = {
    "en": ["The old lighthouse keeper counted the ships every evening.",
           "Please bring the blue umbrella when you visit the market tomorrow.",
           "Rain fell softly on the quiet garden behind the library."],
    "de": ["Der Zug nach Hamburg fährt heute eine Stunde später ab.",
           "Meine Schwester backt jeden Sonntag einen frischen Apfelkuchen.",
           "Im Winter gehen wir gern im Wald spazieren."],
    "es": ["El mercado del pueblo abre muy temprano los sábados.",
           "Mi abuela siempre cuenta historias sobre el mar.",
           "Necesitamos comprar pan y leche para la cena."],
    "fr": ["Le boulanger ouvre sa boutique avant le lever du soleil.",
           "Nous avons visité un petit musée près de la rivière.",
           "Ma voisine arrose ses fleurs tous les matins."],
    "it": ["Il treno per Roma parte dalla stazione centrale.",
           "Mia nonna prepara la pasta fresca ogni domenica.",
           "Abbiamo camminato lungo la spiaggia fino al tramonto."],
    "nl": ["De fietsenmaker repareert mijn band vanmiddag.",
           "Wij drinken koffie in het kleine café op de hoek.",
           "Het regent al de hele week in de stad."],
    "pl": ["Mój brat codziennie rano biega po parku.",
           "W sobotę pojedziemy pociągiem do Krakowa.",
           "Babcia upiekła pyszne ciasto z jabłkami."],
    "pt": ["O pescador voltou para casa com muitos peixes.",
           "Amanhã vamos visitar os nossos amigos na praia.",
           "A biblioteca da cidade fecha cedo aos domingos."],
    "ru": ["Мой друг каждый вечер читает интересные книги.",
           "Летом мы часто ездим на дачу к бабушке.",
           "В этом городе очень красивые старые улицы."],
}
VOICES = {"en": "en-us", "pt": "pt-br"}


def speak(text, lang, tmp):
    raw, out = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "a.wav")
    subprocess.run(["espeak-ng", "-v", VOICES.get(lang, lang), "-w", raw, text], check=True)
    subprocess.run(["sox", raw, "-r", "16000", "-c", "1", "-b", "16", out], check=True)
    with wave.open(out) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0


def main():
    os.makedirs(OUT, exist_ok=True)
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tid = tok.token_to_id
    model = ctranslate2.models.Whisper(MODEL, device="cpu", compute_type="float32", intra_threads=2)
    fe = WhisperFeatureExtractor(feature_size=80)
    clips, encoder = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for lang, sentences in SENTENCES.items():
            tensors = {}
            for i, text in enumerate(sentences):
                audio = speak(text, lang, tmp)
                feats = fe(audio, sampling_rate=16000, return_tensors="np").input_features[0]  # [80, 3000]
                feats = feats.astype(np.float16).astype(np.float32)
                frames = min(3000, (len(audio) + 200) // 160 + 2)
                fill = float(feats[0, -1])
                assert np.all(feats[:, frames:] == fill), "padding region is not constant"
                tensors[f"clip{i}"] = np.ascontiguousarray(feats[:, :frames].astype(np.float16))
                sv = ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None]))
                prompt = [tid("<|startoftranscript|>"), tid(f"<|{lang}|>"), tid("<|transcribe|>"), tid("<|notimestamps|>")]
                g = model.generate(sv, [prompt], beam_size=1, return_scores=True, return_no_speech_prob=True,
                                   return_logits_vocab=True, suppress_blank=True, suppress_tokens=[-1], max_length=448)[0]
                margins = []
                for step in g.logits[0]:
                    lp = np.array(step).reshape(-1)
                    top = np.sort(lp)[-2:]
                    margins.append(float(top[1] - top[0]))
                b = model.generate(sv, [prompt], beam_size=5, patience=1, length_penalty=1, return_scores=True,
                                   suppress_blank=True, suppress_tokens=[-1], max_length=448)[0]
                det = model.detect_language(sv)[0][:3]
                clips.append({
                    "lang": lang, "index": i, "text": text, "frames": frames, "fill": fill, "prompt": prompt,
                    "greedy": {"tokens": g.sequences_ids[0], "score": g.scores[0], "no_speech_prob": g.no_speech_prob,
                               "top2_margins": [round(m, 4) for m in margins],
                               "text": tok.decode(g.sequences_ids[0])},
                    "beam5": {"tokens": b.sequences_ids[0], "score": b.scores[0], "text": tok.decode(b.sequences_ids[0])},
                    "detect": [[t.strip("<|>"), p] for t, p in det],
                })
                if encoder is None:
                    enc = np.array(model.encode(sv, to_cpu=True))[0]  # [1500, 512]
                    rows = [0, 1, 2, 100, 750, 1499]
                    encoder = {"clip": f"{lang}/clip{i}", "rows": rows, "values": enc[rows].tolist(),
                               "mean": float(enc.mean()), "std": float(enc.std()), "max_abs": float(np.abs(enc).max()),
                               "sum_abs": float(np.abs(enc).sum())}
                print(lang, i, g.sequences_ids[0][:8], tok.decode(g.sequences_ids[0]), "|", det[0], file=sys.stderr)
            save_file(tensors, os.path.join(OUT, f"features_{lang}.safetensors"))
    meta = {"model": "whisper-base (CTranslate2 float32 compute)", "ctranslate2": ctranslate2.__version__,
            "generate": {"suppress_blank": True, "suppress_tokens": [-1], "max_length": 448, "patience": 1, "length_penalty": 1},
            "encoder": encoder, "clips": clips}
    with open(os.path.join(OUT, "ct2.json"), "w") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

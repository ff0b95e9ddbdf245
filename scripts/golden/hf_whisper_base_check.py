#!/usr/bin/env python3
"""transformers on the Hugging Face folder Glossa writes for whisper-base decodes like
CTranslate2 on the original CTranslate2 folder: same log-mel features, greedy, English
espeak-ng speech. This checks the q/k/v un-fusing and every name mapping numerically.
Needs torch, transformers, ctranslate2, faster-whisper (scripts/setup.sh --bench); run it
through scripts/golden/hf_whisper_base_check.sh, which makes the folder.

Run: .venv/bin/python scripts/golden/hf_whisper_base_check.py HF_DIR CT2_DIR WAV
Prints one JSON line; exits 1 when the two disagree.
"""
import json, sys
import torch, ctranslate2
from transformers import WhisperForConditionalGeneration, WhisperFeatureExtractor
from faster_whisper import decode_audio

hf, ct2, wav = sys.argv[1:4]
m, info = WhisperForConditionalGeneration.from_pretrained(hf, output_loading_info=True)
m = m.float().eval()
audio = decode_audio(wav, sampling_rate=16000)
feats = WhisperFeatureExtractor(feature_size=80)(audio, sampling_rate=16000, return_tensors="pt").input_features
prompt = [50258, 50259, 50359, 50363]
with torch.no_grad():
    out = m.generate(feats, decoder_input_ids=torch.tensor([prompt]), max_new_tokens=40, do_sample=False, num_beams=1)
    logits = m(input_features=feats, decoder_input_ids=torch.tensor([[50258]])).logits[0, -1]
ours = [t for t in out[0].tolist() if t < 50257]  # special tokens (prompt, if echoed) filtered
# The same features through CTranslate2 on the original folder.
cm = ctranslate2.models.Whisper(ct2, device="cpu", compute_type="float32")
sv = ctranslate2.StorageView.from_array(feats.numpy())
ref = [t for t in cm.generate(sv, [prompt], beam_size=1, max_length=44)[0].sequences_ids[0] if t < 50257]
ct2_lang = [p for _, p in cm.detect_language(sv)[0][:5]]
# Language-token distribution after SOT (what detect_language reports), from our folder.
langs_hf = torch.softmax(logits.double()[50259:50358], -1)
hf_lang = [p for p, _ in sorted(((langs_hf[i].item(), i + 50259) for i in range(len(langs_hf))), reverse=True)[:5]]

problems = []
for k in ("missing_keys", "unexpected_keys", "mismatched_keys"):
    if info.get(k): problems.append(f"{k}: {info[k]}")
if len(ref) <= 5: problems.append(f"CTranslate2 decoded only {len(ref)} tokens")
# The first decoder step matches CTranslate2 to float precision ...
if len(ct2_lang) != 5 or any(abs(a - b) > 1e-5 for a, b in zip(ct2_lang, hf_lang)):
    problems.append(f"language probabilities differ: ct2 {ct2_lang} vs transformers {hf_lang}")
# ... and greedy decoding of the same features gives the same tokens.
if ours != ref: problems.append(f"greedy tokens differ: transformers {ours} vs ct2 {ref}")
print(json.dumps({"ours": ours, "ref": ref, "ct2_lang": ct2_lang, "hf_lang": hf_lang, "problems": problems}))
sys.exit(1 if problems else 0)

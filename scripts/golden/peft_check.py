#!/usr/bin/env python3
"""Regenerates the PEFT golden records under Tests/TensorIOTests/Golden/ (needs torch, peft,
transformers, safetensors, numpy: `scripts/setup.sh --bench`):

  peft_tiny_adapter_config.json
      adapter_config.json as PEFT's save_pretrained wrote it for a LoRA on the tiny Whisper
      `TinyWhisper.make(seed: 0)` (text; committed)
  peft_tiny.json
      what the Swift tests need to know: base model digest, PEFT's resolved scale per
      module, the adapter's tensors (name -> shape, as PEFT saved them), how their values are
      drawn, the sha256 of the adapter_model.safetensors PEFT wrote for those values, the
      input, and logit summaries without and with the adapter (see Golden/README.md)
  peft_tiny_base_config.json
      the base's config.json as given to transformers (alone: --base-config, numpy only)

No weights are committed. The adapter's values are drawn like the tiny base's (below), so
the tests rebuild the very file PEFT wrote (`TinyPEFTAdapter` in Tests/WhisperTesting) and
check its digest against the one recorded here.

The tiny base is rebuilt here with the same algorithm as Tests/WhisperTesting/TinyWhisper.swift
(SplitMix64 per tensor seeded by seed ^ FNV-1a(name), exact 24-bit uniforms); the Swift
test checks that our HuggingFaceWhisper writer produces a model.safetensors with the
digest recorded here, i.e. that both builders agree byte for byte.

transformers must load the base with no missing, unexpected or mismatched keys, so the golden
logits also certify that a folder with these bytes and this config loads cleanly in
transformers (HuggingFaceWhisperTests.testTransformersLoadedOurFolderForTheGoldens).

With --check DIR: load the adapter folder DIR (e.g. one exported by Glossa) with PEFT on
the same base and compare its logits with those of the golden adapter; prints JSON.
"""
import hashlib, json, math, pathlib, sys, tempfile
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "Tests/TensorIOTests/Golden"
SEED = 0
DIMS = dict(d=64, enc=2, dec=2, heads=4, ffn=256, vocab=51865, mels=80, src=1500, tgt=448)
INPUT_IDS = [50258, 50259, 50359, 50363, 440, 1029, 300]
# The adapter's factors: tensor `key` (as PEFT saves it) holds
# VALUE_SCALE * stream(VALUE_SEED, key, n), uniform in [-0.35, 0.35) (std 0.2).
VALUE_SEED = 1234
VALUE_SCALE = np.float32(0.35)


def expected_shapes(D):
    d, s = D["d"], {}
    def attn(p):
        for x in ["q_proj", "k_proj", "v_proj", "out_proj"]: s[f"{p}.{x}.weight"] = [d, d]
        for x in ["q_proj", "v_proj", "out_proj"]: s[f"{p}.{x}.bias"] = [d]
    def norm(p): s[f"{p}.weight"] = [d]; s[f"{p}.bias"] = [d]
    def ffn(p, f):
        s[f"{p}.fc1.weight"] = [f, d]; s[f"{p}.fc1.bias"] = [f]; s[f"{p}.fc2.weight"] = [d, f]; s[f"{p}.fc2.bias"] = [d]
    s["model.encoder.conv1.weight"] = [d, D["mels"], 3]; s["model.encoder.conv1.bias"] = [d]
    s["model.encoder.conv2.weight"] = [d, d, 3]; s["model.encoder.conv2.bias"] = [d]
    s["model.encoder.embed_positions.weight"] = [D["src"], d]
    for i in range(D["enc"]):
        p = f"model.encoder.layers.{i}"; attn(p + ".self_attn"); norm(p + ".self_attn_layer_norm"); ffn(p, D["ffn"]); norm(p + ".final_layer_norm")
    norm("model.encoder.layer_norm")
    s["model.decoder.embed_tokens.weight"] = [D["vocab"], d]; s["model.decoder.embed_positions.weight"] = [D["tgt"], d]
    for i in range(D["dec"]):
        p = f"model.decoder.layers.{i}"; attn(p + ".self_attn"); norm(p + ".self_attn_layer_norm")
        attn(p + ".encoder_attn"); norm(p + ".encoder_attn_layer_norm"); ffn(p, D["ffn"]); norm(p + ".final_layer_norm")
    norm("model.decoder.layer_norm")
    return s


M64 = (1 << 64) - 1


def stream(seed, name, n):
    """n draws of TinyWhisper.Stream.symmetricUniform (vectorised SplitMix64)."""
    h = 0xcbf29ce484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001b3) & M64
    state = np.uint64(seed ^ h)
    with np.errstate(over="ignore"):
        z = state + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -23) - np.float32(1)


def sinusoids(length, channels):
    half = channels // 2
    step = math.log(10000.0) / max(half - 1, 1)
    t = np.arange(length, dtype=np.float64)[:, None]
    f = np.exp(-np.arange(half, dtype=np.float64) * step)[None, :]
    return np.concatenate([np.sin(t * f), np.cos(t * f)], axis=1).astype(np.float32)


def tiny_tensors(seed, D):
    out = {}
    for name, shape in expected_shapes(D).items():
        n = int(np.prod(shape))
        if name == "model.encoder.embed_positions.weight":
            out[name] = sinusoids(*shape); continue
        if name.endswith("layer_norm.weight"): off, sc = 1.0, 0.1
        elif name.endswith(".bias") or name == "model.decoder.embed_positions.weight": off, sc = 0.0, 0.1
        elif name == "model.decoder.embed_tokens.weight": off, sc = 0.0, 0.5
        else: off, sc = 0.0, 1 / math.sqrt(int(np.prod(shape[1:])))
        u = stream(seed, name, n)
        out[name] = (np.float32(off) + np.float32(sc) * u).reshape(shape)
    return out


def base_config(D):
    """config.json of the tiny base as given to transformers; kept as
    Golden/peft_tiny_base_config.json so the Swift test can compare our writer's without torch."""
    return {"architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper", "activation_function": "gelu",
           "scale_embedding": False, "tie_word_embeddings": True, "d_model": D["d"], "num_mel_bins": D["mels"],
           "encoder_layers": D["enc"], "decoder_layers": D["dec"], "encoder_attention_heads": D["heads"],
           "decoder_attention_heads": D["heads"], "encoder_ffn_dim": D["ffn"], "decoder_ffn_dim": D["ffn"],
           "vocab_size": D["vocab"], "max_source_positions": D["src"], "max_target_positions": D["tgt"],
           "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "num_hidden_layers": D["enc"],
           "bos_token_id": 50257, "eos_token_id": 50257, "pad_token_id": 50257, "decoder_start_token_id": 50258}


def hf_folder(dirpath):
    from safetensors.numpy import save_file
    D = DIMS
    tensors = tiny_tensors(SEED, D)
    save_file(tensors, str(dirpath / "model.safetensors"), metadata={"format": "pt"})
    (dirpath / "config.json").write_text(json.dumps(base_config(D)))
    return hashlib.sha256((dirpath / "model.safetensors").read_bytes()).hexdigest()


def fixed_features(D):
    m = np.arange(D["mels"])[:, None]; t = np.arange(2 * D["src"])[None, :]
    k = ((m * 31 + t * 17) % 101).astype(np.float32)
    return (k / np.float32(50) - np.float32(1))[None]  # [1, mels, 3000]


def logits_of(model, torch):
    feats = torch.from_numpy(fixed_features(DIMS))
    with torch.no_grad():
        return model(input_features=feats, decoder_input_ids=torch.tensor([INPUT_IDS])).logits[0].double()


def summarise(lg):
    """Per decoder position: argmax over the whole vocabulary, max logit, logsumexp."""
    return {"argmax": lg.argmax(-1).tolist(), "max": [float(x) for x in lg.max(-1).values],
            "logsumexp": [float(x) for x in lg.logsumexp(-1)]}


def golden_adapter(base, torch):
    """The golden LoRA on `base` (modified in place into a PeftModel): PEFT's own modules and
    scales, with factors drawn as described at VALUE_SEED."""
    from peft import LoraConfig, get_peft_model
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "fc1"], lora_dropout=0.0,
                        rank_pattern={"fc1": 2, "model.encoder.layers.1.self_attn.v_proj": 3},
                        alpha_pattern={"decoder.layers.1.encoder_attn.q_proj": 24, "fc1": 5},
                        init_lora_weights=True)
    model = get_peft_model(base, config).eval()
    scales, tensors = {}, {}
    with torch.no_grad():
        for name, mod in model.named_modules():
            if hasattr(mod, "lora_A") and "default" in mod.lora_A:
                for factor in ["lora_A", "lora_B"]:
                    w = getattr(mod, factor)["default"].weight
                    key = f"{name}.{factor}.weight"
                    w.copy_(torch.from_numpy((VALUE_SCALE * stream(VALUE_SEED, key, w.numel())).reshape(tuple(w.shape))))
                    tensors[key] = list(w.shape)
                scales[name.removeprefix("base_model.model.")] = mod.scaling["default"]
    model.peft_config["default"].base_model_name_or_path = "glossa-tiny-whisper-seed0"
    return model, scales, tensors


def main():
    import torch
    from transformers import WhisperForConditionalGeneration
    from peft import PeftModel
    tmp = pathlib.Path(tempfile.mkdtemp())
    digest = hf_folder(tmp)

    def load_base():
        base, info = WhisperForConditionalGeneration.from_pretrained(str(tmp), output_loading_info=True)
        # The golden logits certify that transformers read every tensor of this folder (whose
        # bytes our writer reproduces): nothing may be left to random initialisation.
        bad = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
        if bad: sys.exit(f"transformers did not load the tiny base cleanly: {bad}")
        return base.eval()

    base = load_base()
    base_logits = logits_of(base, torch)
    model, scales, tensors = golden_adapter(base, torch)
    lora_logits = logits_of(model, torch)

    if len(sys.argv) > 2 and sys.argv[1] == "--check":
        theirs = logits_of(PeftModel.from_pretrained(load_base(), sys.argv[2]).eval(), torch)
        print(json.dumps({"max_abs_diff": float((theirs - lora_logits).abs().max()),
                          "argmax_equal": bool((theirs.argmax(-1) == lora_logits.argmax(-1)).all())}))
        return

    out = tmp / "adapter"
    model.save_pretrained(str(out))
    (GOLDEN / "peft_tiny_adapter_config.json").write_text((out / "adapter_config.json").read_text())
    import peft, transformers
    meta = {"base": {"builder": "TinyWhisper.make(seed: 0) with default Dimensions", "seed": SEED, "dims": DIMS,
                     "model_safetensors_sha256": digest},
            "adapter": {"values": f"{float(VALUE_SCALE)} * uniform[-1, 1) of SplitMix64 seeded {VALUE_SEED} ^ FNV-1a(tensor name)",
                        "value_seed": VALUE_SEED, "value_scale": float(VALUE_SCALE), "tensors": dict(sorted(tensors.items())),
                        "adapter_model_safetensors_sha256": hashlib.sha256((out / "adapter_model.safetensors").read_bytes()).hexdigest()},
            "input": {"decoder_input_ids": INPUT_IDS,
                      "input_features": "[1, 80, 3000] f32: ((m*31 + t*17) % 101) / 50 - 1 for mel m, frame t"},
            "scales": dict(sorted(scales.items())),
            "logits": {"base": summarise(base_logits), "lora": summarise(lora_logits)},
            "max_abs_lora_effect": float((lora_logits - base_logits).abs().max()),
            "versions": {"torch": torch.__version__, "peft": peft.__version__, "transformers": transformers.__version__}}
    (GOLDEN / "peft_tiny.json").write_text(json.dumps(meta, indent=1) + "\n")
    write_base_config()
    print(json.dumps({k: meta[k] for k in ["base", "max_abs_lora_effect"]}))


def write_base_config():
    (GOLDEN / "peft_tiny_base_config.json").write_text(json.dumps(base_config(DIMS), indent=1) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--base-config"]:
        write_base_config()  # numpy only: no torch needed
    else:
        main()

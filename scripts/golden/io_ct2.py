#!/usr/bin/env python3
"""Regenerates the CTranslate2 golden files under Tests/TensorIOTests/Golden/.

1. ct2_tiny_{int8,float16}/   tiny random Whisper converted by CTranslate2's own
   Transformers loader (ctranslate2.converters.transformers.WhisperLoader), then
   quantised and serialised by ctranslate2 itself; ct2_tiny_expected.safetensors holds
   the Hugging Face state dict it came from (f32, proj_out and tied names dropped).
   Needs torch + transformers + ctranslate2.
2. ct2_whisper_base_slices.json   small slices of the real whisper-base (models/whisper-base-ct2)
   read by an independent numpy parser of model.bin and mapped to HF names here, for
   the Swift importer test. Needs numpy only.
"""
import copy, json, pathlib, struct, sys
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "Tests/TensorIOTests/Golden"


def tiny_models():
    import torch, ctranslate2
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    from ctranslate2.converters.transformers import WhisperLoader
    from safetensors.numpy import save_file

    torch.manual_seed(11)
    cfg = WhisperConfig(vocab_size=40, num_mel_bins=8, d_model=16, encoder_layers=2, decoder_layers=2,
                        encoder_attention_heads=2, decoder_attention_heads=4, encoder_ffn_dim=32, decoder_ffn_dim=24,
                        max_source_positions=24, max_target_positions=16, pad_token_id=0, bos_token_id=1,
                        eos_token_id=2, decoder_start_token_id=3, suppress_tokens=[5, 7], begin_suppress_tokens=[2, 9])
    model = WhisperForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():  # non-trivial values everywhere (biases and norms too)
            p.copy_(torch.randn_like(p) * 0.5)
    state = {k: v.detach().float().numpy().copy() for k, v in model.state_dict().items() if k != "proj_out.weight"}
    save_file(state, str(GOLDEN / "ct2_tiny_expected.safetensors"), metadata={"source": "scripts/golden/io_ct2.py"})

    for quant in ["int8", "float16"]:
        # CTranslate2's quantiser scales numpy views of the torch parameters in place, so
        # each conversion gets its own copy of the model.
        loader = WhisperLoader()
        spec = loader.get_model_spec(copy.deepcopy(model))
        spec.register_vocabulary([f"tok{i}" for i in range(cfg.vocab_size)])
        spec.config.suppress_ids = cfg.suppress_tokens
        spec.config.suppress_ids_begin = cfg.begin_suppress_tokens
        spec.config.lang_ids = []
        spec.config.alignment_heads = [[1, 0]]
        spec.validate()
        spec.optimize(quantization=quant)
        out = GOLDEN / f"ct2_tiny_{quant}"
        out.mkdir(exist_ok=True)
        spec.save(str(out))
        (out / "tokenizer.json").write_text('{"note": "placeholder: the tiny test model has 40 fake tokens"}\n')
        print(out, sorted(p.name for p in out.iterdir()))


def read_ct2(path):
    """Independent numpy parser of model.bin (binary version 6)."""
    buf = memoryview(pathlib.Path(path).read_bytes())
    off = 0
    def u(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, buf, off); off += struct.calcsize(fmt); return v
    def s():
        nonlocal off
        (n,) = u("H"); t = bytes(buf[off:off + n - 1]).decode(); off += n; return t
    assert u("I")[0] == 6
    s(); u("I")
    (n,) = u("I")
    types = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
    out = {}
    for _ in range(n):
        name = s(); (rank,) = u("B"); dims = u("I" * rank) if rank else (); (dt,) = u("B"); (nb,) = u("I")
        out[name] = np.frombuffer(buf[off:off + nb], dtype=types[dt]).reshape(dims); off += nb
    (na,) = u("I")
    for _ in range(na):
        a = s(); t = s(); out[a] = out[t]
    return out


def base_slices():
    v = read_ct2(ROOT / "models/whisper-base-ct2/model.bin")
    d = v["decoder/embeddings/weight"].shape[1]
    hf = {
        "model.encoder.conv1.weight": v["encoder/conv1/weight"],
        "model.encoder.conv2.bias": v["encoder/conv2/bias"],
        "model.encoder.embed_positions.weight": v["encoder/position_encodings/encodings"],
        "model.encoder.layers.0.self_attn.q_proj.weight": v["encoder/layer_0/self_attention/linear_0/weight"][:d],
        "model.encoder.layers.0.self_attn.k_proj.weight": v["encoder/layer_0/self_attention/linear_0/weight"][d:2 * d],
        "model.encoder.layers.0.self_attn.v_proj.weight": v["encoder/layer_0/self_attention/linear_0/weight"][2 * d:],
        "model.encoder.layers.0.self_attn.q_proj.bias": v["encoder/layer_0/self_attention/linear_0/bias"][:d],
        "model.encoder.layers.0.self_attn.v_proj.bias": v["encoder/layer_0/self_attention/linear_0/bias"][2 * d:],
        "model.encoder.layers.3.fc2.weight": v["encoder/layer_3/ffn/linear_1/weight"],
        "model.encoder.layers.5.final_layer_norm.weight": v["encoder/layer_5/ffn/layer_norm/gamma"],
        "model.encoder.layer_norm.bias": v["encoder/layer_norm/beta"],
        "model.decoder.embed_tokens.weight": v["decoder/embeddings/weight"],
        "model.decoder.embed_positions.weight": v["decoder/position_encodings/encodings"],
        "model.decoder.layers.2.encoder_attn.q_proj.weight": v["decoder/layer_2/attention/linear_0/weight"],
        "model.decoder.layers.5.encoder_attn.k_proj.weight": v["decoder/layer_5/attention/linear_1/weight"][:d],
        "model.decoder.layers.5.encoder_attn.v_proj.weight": v["decoder/layer_5/attention/linear_1/weight"][d:],
        "model.decoder.layers.5.encoder_attn.v_proj.bias": v["decoder/layer_5/attention/linear_1/bias"][d:],
        "model.decoder.layers.1.encoder_attn_layer_norm.bias": v["decoder/layer_1/attention/layer_norm/beta"],
        "model.decoder.layers.4.self_attn.out_proj.weight": v["decoder/layer_4/self_attention/linear_1/weight"],
        "model.decoder.layer_norm.weight": v["decoder/layer_norm/gamma"],
    }
    out = {}
    for name, a in hf.items():
        flat = a.astype(np.float64).reshape(-1)
        row = a.shape[0] // 2 + 1
        out[name] = {
            "shape": list(a.shape),
            "dtype": str(a.dtype),
            "first": [float(x) for x in flat[:8]],
            "row": row,
            "row_first": [float(x) for x in a[row].astype(np.float64).reshape(-1)[:8]],
            "sum": float(flat.sum()),
            "abs_sum": float(np.abs(flat).sum()),
        }
    p = GOLDEN / "ct2_whisper_base_slices.json"
    p.write_text(json.dumps(out, indent=1) + "\n")
    print(p)


if __name__ == "__main__":
    what = sys.argv[1:] or ["tiny", "base"]
    if "tiny" in what: tiny_models()
    if "base" in what: base_slices()

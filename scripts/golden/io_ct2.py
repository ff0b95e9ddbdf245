#!/usr/bin/env python3
"""CTranslate2 golden files for the Swift importer tests (TensorIOTests).

1. `io_ct2.py tiny OUT`: a tiny random Whisper (Hugging Face names) converted by
   CTranslate2's own loader (ctranslate2.converters.transformers.WhisperLoader), quantised
   and serialised by ctranslate2 itself, into OUT/ct2_tiny_{int8,float16}/; and
   OUT/ct2_tiny_expected.safetensors, the state dict (f32) it came from (proj_out, tied to
   embed_tokens, left out). Needs numpy + safetensors + ctranslate2 only: the loader is fed
   a tree of plain objects with the attribute names of transformers' Whisper modules, so
   neither torch nor transformers is needed. The tests run this at test time (these are
   model weights, so they are generated, never committed); the output is a function of
   this file's text and the ctranslate2 version.
2. `io_ct2.py base`: ct2_whisper_base_slices.json, small slices of the real whisper-base
   (models/whisper-base-ct2) read by an independent numpy parser of model.bin and mapped to
   HF names here. Needs numpy only; committed (text).
"""
import json, pathlib, struct, sys, types
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "Tests/TensorIOTests/Golden"

# The tiny model: d 16, 2 + 2 layers, 2 / 4 heads, FFN 32 / 24, vocab 40, 8 mel bins,
# 24 / 16 positions; special ids as in its config.json.
TINY = dict(vocab=40, mels=8, d=16, enc=2, dec=2, enc_heads=2, dec_heads=4, enc_ffn=32, dec_ffn=24, src=24, tgt=16)
SUPPRESS, BEGIN_SUPPRESS = [5, 7], [2, 9]


def tiny_state(D, seed=11):
    """Hugging Face WhisperForConditionalGeneration names -> f32 arrays, N(0, 0.5^2)
    everywhere (biases and norms too, so nothing is trivially 0 or 1). k_proj has no bias,
    as in transformers."""
    shapes = {}
    d = D["d"]
    def linear(p, o, i, bias=True):
        shapes[p + ".weight"] = [o, i]
        if bias: shapes[p + ".bias"] = [o]
    def norm(p): shapes[p + ".weight"] = [d]; shapes[p + ".bias"] = [d]
    def attn(p):
        linear(p + ".q_proj", d, d); linear(p + ".k_proj", d, d, bias=False)
        linear(p + ".v_proj", d, d); linear(p + ".out_proj", d, d)
    shapes["model.encoder.conv1.weight"] = [d, D["mels"], 3]; shapes["model.encoder.conv1.bias"] = [d]
    shapes["model.encoder.conv2.weight"] = [d, d, 3]; shapes["model.encoder.conv2.bias"] = [d]
    shapes["model.encoder.embed_positions.weight"] = [D["src"], d]
    for i in range(D["enc"]):
        p = f"model.encoder.layers.{i}"
        attn(p + ".self_attn"); norm(p + ".self_attn_layer_norm")
        linear(p + ".fc1", D["enc_ffn"], d); linear(p + ".fc2", d, D["enc_ffn"]); norm(p + ".final_layer_norm")
    norm("model.encoder.layer_norm")
    shapes["model.decoder.embed_tokens.weight"] = [D["vocab"], d]
    shapes["model.decoder.embed_positions.weight"] = [D["tgt"], d]
    for i in range(D["dec"]):
        p = f"model.decoder.layers.{i}"
        attn(p + ".self_attn"); norm(p + ".self_attn_layer_norm")
        attn(p + ".encoder_attn"); norm(p + ".encoder_attn_layer_norm")
        linear(p + ".fc1", D["dec_ffn"], d); linear(p + ".fc2", d, D["dec_ffn"]); norm(p + ".final_layer_norm")
    norm("model.decoder.layer_norm")
    rng = np.random.default_rng(seed)  # PCG64: the same draws on every platform
    return {k: (rng.standard_normal(s) * 0.5).astype(np.float32) for k, s in sorted(shapes.items())}


def module_tree(state):
    """The attribute tree WhisperLoader walks (model.model.encoder.layers[i].self_attn.q_proj.weight,
    ...), built from a flat state dict; `proj_out` shares embed_tokens' weight, as tied in
    transformers. Arrays are copied: the quantiser rescales them in place."""
    root = types.SimpleNamespace()
    for name, value in state.items():
        node, parts = root, name.split(".")
        for part in parts[:-1]:
            if part.isdigit():
                seq = node
                while len(seq) <= int(part): seq.append(types.SimpleNamespace())
                node = seq[int(part)]
                continue
            if not hasattr(node, part):
                setattr(node, part, [] if part == "layers" else types.SimpleNamespace())
            node = getattr(node, part)
        setattr(node, parts[-1], value.copy())
    for attn in ["self_attn", "encoder_attn"]:
        for layer in getattr(root.model.decoder, "layers") + (root.model.encoder.layers if attn == "self_attn" else []):
            if hasattr(layer, attn): getattr(layer, attn).k_proj.bias = None
    root.proj_out = types.SimpleNamespace(weight=root.model.decoder.embed_tokens.weight.copy(), bias=None)
    return root


def tiny_models(out):
    import ctranslate2
    import ctranslate2.converters.transformers as ct2_transformers
    from ctranslate2.converters.transformers import WhisperLoader
    from safetensors.numpy import save_file

    # The loader only asks transformers whether a linear is a GPT-2 style Conv1D; none is.
    if not hasattr(ct2_transformers, "transformers"):
        ct2_transformers.transformers = types.SimpleNamespace(Conv1D=type("Conv1D", (), {}))
    D = TINY
    state = tiny_state(D)
    out.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out / "ct2_tiny_expected.safetensors"), metadata={"source": "scripts/golden/io_ct2.py"})
    config = types.SimpleNamespace(encoder_layers=D["enc"], encoder_attention_heads=D["enc_heads"],
                                   decoder_layers=D["dec"], decoder_attention_heads=D["dec_heads"])
    for quant in ["int8", "float16"]:
        model = module_tree(state)
        model.config = config
        spec = WhisperLoader().get_model_spec(model)
        spec.register_vocabulary([f"tok{i}" for i in range(D["vocab"])])
        spec.config.suppress_ids = SUPPRESS
        spec.config.suppress_ids_begin = BEGIN_SUPPRESS
        spec.config.lang_ids = []
        spec.config.alignment_heads = [[1, 0]]
        spec.validate()
        spec.optimize(quantization=quant)
        folder = out / f"ct2_tiny_{quant}"
        folder.mkdir(exist_ok=True)
        spec.save(str(folder))
        (folder / "tokenizer.json").write_text('{"note": "placeholder: the tiny test model has 40 fake tokens"}\n')
    print(json.dumps({"out": str(out), "ctranslate2": ctranslate2.__version__}))


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
    if sys.argv[1:2] == ["tiny"] and len(sys.argv) == 3:
        tiny_models(pathlib.Path(sys.argv[2]))
    elif sys.argv[1:] == ["base"]:
        base_slices()
    else:
        sys.exit("usage: io_ct2.py tiny OUT_DIR | io_ct2.py base")

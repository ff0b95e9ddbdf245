#!/usr/bin/env python3
"""Writes OUT_DIR/python_written.safetensors with the reference Python `safetensors` package.

The tests run it at test time (`TestPaths.pythonWritten`, through Peer.generated; numpy and
safetensors are in the test venv) and check that our reader accepts the reference writer's
file and that our writer reproduces it byte for byte. Values follow
closed formulas that the Swift test recomputes (see SafeTensorsInteropTests):

  a_f32   [3, 4] F32  i * 0.5 - 1            (i = flat index)
  b_f16   [2, 3] F16  i / 4
  c_i8    [8]    I8   i - 4
  d_i64   [3]    I64  [1, -2, 3000000000000]
  e_u8    [2, 2] U8   i * 60
  f_bool  [3]    BOOL [true, false, true]
  g_f64   [2]    F64  [pi, -e]
  scalar  []     F32  3.25
  empty   [0, 3] F32  (no bytes)
  metadata {"format": "np", "source": "glossa golden"}
"""
import math, pathlib, sys
import numpy as np
from safetensors.numpy import save_file

if len(sys.argv) != 2: sys.exit("usage: io_safetensors.py OUT_DIR")
pathlib.Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
out = pathlib.Path(sys.argv[1]) / "python_written.safetensors"
tensors = {
    "a_f32": (np.arange(12, dtype=np.float32) * 0.5 - 1).reshape(3, 4),
    "b_f16": (np.arange(6, dtype=np.float32) / 4).astype(np.float16).reshape(2, 3),
    "c_i8": (np.arange(8) - 4).astype(np.int8),
    "d_i64": np.array([1, -2, 3_000_000_000_000], dtype=np.int64),
    "e_u8": (np.arange(4) * 60).astype(np.uint8).reshape(2, 2),
    "f_bool": np.array([True, False, True]),
    "g_f64": np.array([math.pi, -math.e], dtype=np.float64),
    "scalar": np.array(3.25, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
}
save_file(tensors, str(out), metadata={"format": "np", "source": "glossa golden"})
print(out, out.stat().st_size, "bytes")

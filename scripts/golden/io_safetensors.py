#!/usr/bin/env python3
"""Regenerates Tests/TensorIOTests/Golden/python_written.safetensors.

The file is written by the reference Python `safetensors` package so CI can check that
our reader accepts files from the reference writer without needing Python. Values follow
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

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                   pathlib.Path(__file__).resolve().parents[2] / "Tests/TensorIOTests/Golden/python_written.safetensors")
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

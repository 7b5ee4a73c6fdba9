#!/usr/bin/env python3
"""Dump pyreft LoReFT interventions for sdk/reft's parity test.

Writes testdata/reft/pyreft_loreft.safetensors with, for each case C:
  C.rotate_layer [d, r]  pyreft's materialised rotate_layer.weight (R^T)
  C.weight [r, d], C.bias [r]  learned_source
  C.h [b, s, d]  the input, C.out [b, s, d]  pyreft's output
and metadata C.act (act_fn), C.dtype (learned_source and h dtype), torch version.

pyreft is not installed on the GPU machine: pass its source checkout with
--pyreft-src (the repository root or its pyreft/ folder). Only
pyreft/interventions.py is imported, by path. pyvene is used when importable
(or from --pyvene-src); otherwise a stub supplies the four base classes
LoreftIntervention derives from, which only hold embed_dim, so the forward
pass computed is pyreft's own code either way.

Made with Debian sid's torch 2.14.1 and the real pyvene (testdata/gen/debian-sid.sh);
pyreft dafd099 (2025-02-06) and pyvene 9e33390 (2026-03-05) source checkouts.

Usage (torch >= 2.0, safetensors):
  python3 testdata/gen/reft/make_fixtures.py --pyreft-src /path/to/pyreft
"""
import argparse
import importlib.util
import json
import os
import struct
import sys
import types

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def stub_pyvene():
    """Minimal pyvene base classes: pyvene/models/interventions.py keeps only
    flags and the embed_dim/interchange_dim buffers in them; the
    interventions' math is pyreft's own."""
    m = types.ModuleType("pyvene")

    class Intervention(torch.nn.Module):
        def __init__(self, **kwargs):
            super().__init__()
            self.trainable = False
            self.is_source_constant = False
            self.keep_last_dim = kwargs.get("keep_last_dim", False)
            self.register_buffer("embed_dim", torch.tensor(kwargs["embed_dim"]))
            self.register_buffer("interchange_dim", torch.tensor(kwargs["embed_dim"]))

    class TrainableIntervention(Intervention):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.trainable = True

    class SourcelessIntervention(Intervention):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.is_source_constant = True

    class DistributedRepresentationIntervention(torch.nn.Module):
        def __init__(self, **kwargs):
            super().__init__()
            self.is_repr_distributed = True

    m.Intervention = Intervention
    m.TrainableIntervention = TrainableIntervention
    m.SourcelessIntervention = SourcelessIntervention
    m.ConstantSourceIntervention = SourcelessIntervention
    m.DistributedRepresentationIntervention = DistributedRepresentationIntervention
    sys.modules["pyvene"] = m


def stub_transformers_activations():
    """ACT2FN for the acts used here, when transformers is absent."""
    t = types.ModuleType("transformers")
    a = types.ModuleType("transformers.activations")
    a.ACT2FN = {"linear": lambda x: x, "relu": torch.nn.functional.relu,
                "gelu": lambda x: torch.nn.functional.gelu(x)}
    t.activations = a
    sys.modules["transformers"] = t
    sys.modules["transformers.activations"] = a


def load_interventions(pyreft_src, pyvene_src):
    if pyvene_src:
        sys.path.insert(0, pyvene_src)
    try:
        import pyvene  # noqa: F401
        print("using pyvene from", os.path.dirname(sys.modules["pyvene"].__file__))
    except Exception as e:  # not installed, or its heavy imports fail
        print("pyvene not importable (%s): using the base-class stub" % e)
        stub_pyvene()
    try:
        import transformers.activations  # noqa: F401
    except Exception:
        print("transformers not importable: using a minimal ACT2FN")
        stub_transformers_activations()
    path = os.path.join(pyreft_src, "interventions.py")
    if not os.path.exists(path):
        path = os.path.join(pyreft_src, "pyreft", "interventions.py")
    spec = importlib.util.spec_from_file_location("pyreft_interventions", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def save(path, tensors, metadata):
    try:
        from safetensors.torch import save_file
        save_file(tensors, path, metadata=metadata)
        return
    except ImportError:
        pass
    # The format is small enough to write by hand: 8-byte header length,
    # JSON header, raw little-endian data (used where safetensors is absent).
    names = {torch.float32: "F32", torch.bfloat16: "BF16"}
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pyreft-src", required=True)
    ap.add_argument("--pyvene-src", default="")
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "reft", "pyreft_loreft.safetensors"))
    args = ap.parse_args()
    iv = load_interventions(args.pyreft_src, args.pyvene_src)

    d, r, b, s = 16, 4, 2, 5
    cases = [("linear", None, torch.float32), ("gelu", "gelu", torch.float32), ("bf16", None, torch.bfloat16)]
    tensors, meta = {}, {"torch": torch.__version__, "cases": ",".join(c[0] for c in cases)}
    for i, (name, act, dtype) in enumerate(cases):
        torch.manual_seed(1000 + i)
        m = iv.LoreftIntervention(embed_dim=d, low_rank_dimension=r, dtype=dtype, act_fn=act, dropout=0.0)
        m.eval()
        h = torch.randn(b, s, d).to(dtype)
        with torch.no_grad():
            out = m(h)
        tensors[name + ".rotate_layer"] = m.rotate_layer.weight.detach().float().contiguous()
        tensors[name + ".weight"] = m.learned_source.weight.detach().contiguous()
        tensors[name + ".bias"] = m.learned_source.bias.detach().contiguous()
        tensors[name + ".h"] = h.contiguous()
        tensors[name + ".out"] = out.detach().contiguous()
        meta[name + ".act"] = act or "linear"
        meta[name + ".dtype"] = str(dtype).replace("torch.", "")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    save(args.out, tensors, meta)
    print("wrote", args.out, "cases:", meta["cases"])


if __name__ == "__main__":
    main()

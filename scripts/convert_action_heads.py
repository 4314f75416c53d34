#!/usr/bin/env python3
"""Converts a fine-tuned Dream-VLA checkpoint's action-head files to safetensors.

Fine-tuning writes the action head, the noisy-action projector and the proprio
projector as torch.save state dicts (`action_head--<suffix>`, ...) with
`module.` key prefixes. vla-harness reads them from one file,
`action_heads.safetensors`, with keys `<module>.<parameter>`:

    python3 scripts/convert_action_heads.py CHECKPOINT_DIR

Needs PyTorch and the safetensors package (run it wherever the checkpoint was
trained); it writes CHECKPOINT_DIR/action_heads.safetensors.
"""
import pathlib
import sys

import torch
from safetensors.torch import save_file

MODULES = ("action_head", "noisy_action_projector", "proprio_projector")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    checkpoint = pathlib.Path(sys.argv[1])
    tensors = {}
    for module in MODULES:
        matches = [p for p in checkpoint.glob(f"{module}--*") if "checkpoint" in p.name]
        if not matches:
            if module == "proprio_projector":
                continue  # checkpoints trained without proprio have none
            print(f"{checkpoint}: no {module}--*checkpoint* file", file=sys.stderr)
            return 1
        if len(matches) > 1:
            print(f"{checkpoint}: several {module} files: {[m.name for m in matches]}", file=sys.stderr)
            return 1
        state = torch.load(matches[0], map_location="cpu")
        for key, value in state.items():
            name = key[len("module."):] if key.startswith("module.") else key
            tensors[f"{module}.{name}"] = value.detach().contiguous()
    out = checkpoint / "action_heads.safetensors"
    save_file(tensors, str(out))
    print(f"wrote {len(tensors)} tensors to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

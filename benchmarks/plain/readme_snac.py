#!/usr/bin/env python3
"""The snac package as its README uses it, one operation per process (bench.py times it whole).

  readme_snac.py encode MODEL_ID THREADS IN.wav CODES.pt
  readme_snac.py decode MODEL_ID THREADS CODES.pt OUT.wav
"""

import sys

import soundfile
import torch
from snac import SNAC


def main(op: str, model_id: str, threads: str, source: str, target: str) -> None:
    torch.set_num_threads(int(threads))
    model = SNAC.from_pretrained(model_id).eval()
    with torch.inference_mode():
        if op == "encode":
            audio, _ = soundfile.read(source, dtype="float32")  # [T], at the model's rate
            codes = model.encode(torch.from_numpy(audio)[None, None])
            torch.save(codes, target)
        else:
            audio_hat = model.decode(torch.load(source))
            soundfile.write(target, audio_hat[0, 0].numpy(), model.sampling_rate)


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""transformers' MimiModel as its documentation uses it (8 codebooks, the toolkit's default),
one operation per process (bench.py times it whole).

  readme_mimi.py encode MODEL_ID THREADS IN.wav CODES.pt
  readme_mimi.py decode MODEL_ID THREADS CODES.pt OUT.wav
"""

import sys

import soundfile
import torch
from transformers import MimiModel


def main(op: str, model_id: str, threads: str, source: str, target: str) -> None:
    torch.set_num_threads(int(threads))
    model = MimiModel.from_pretrained(model_id).eval()
    with torch.inference_mode():
        if op == "encode":
            audio, _ = soundfile.read(source, dtype="float32")  # [T], at the model's rate
            codes = model.encode(torch.from_numpy(audio)[None, None], num_quantizers=8).audio_codes
            torch.save(codes, target)
        else:
            audio_values = model.decode(torch.load(source)).audio_values
            soundfile.write(target, audio_values[0, 0].numpy(), model.config.sampling_rate)


if __name__ == "__main__":
    main(*sys.argv[1:])

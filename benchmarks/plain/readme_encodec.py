#!/usr/bin/env python3
"""The encodec package's command line, `encodec [-b KBPS] IN.wav OUT.ecdc` and
`encodec IN.ecdc OUT.wav`, step for step (its __main__), with soundfile for the WAV files:
with torchaudio 2.9 and later, the command's torchaudio.load and save need the torchcodec
package, which neither encodec nor this toolkit installs, so the command itself fails.
Threads: OMP_NUM_THREADS, which torch follows, as for the command.

  readme_encodec.py [-b KBPS] IN.wav OUT.ecdc
  readme_encodec.py IN.ecdc OUT.wav
"""

import argparse
from pathlib import Path

import soundfile
import torch
from encodec import EncodecModel, compress, decompress
from encodec.utils import convert_audio


def main() -> None:
    parser = argparse.ArgumentParser("readme_encodec")
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("-b", "--bandwidth", type=float, default=6)  # the command's default
    args = parser.parse_args()
    if args.input.suffix == ".ecdc":
        out, out_sample_rate = decompress(args.input.read_bytes())
        soundfile.write(args.output, out.T.numpy(), out_sample_rate)  # [C, T] -> [T, C]
    else:
        model = EncodecModel.encodec_model_24khz()
        model.set_target_bandwidth(args.bandwidth)
        wav, sr = soundfile.read(args.input, dtype="float32", always_2d=True)
        wav = convert_audio(torch.from_numpy(wav.T), sr, model.sample_rate, model.channels)
        args.output.write_bytes(compress(model, wav))


if __name__ == "__main__":
    main()

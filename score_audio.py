#!/usr/bin/env python3
"""Score a restored signal against its original: compare_audio.sh's helper.

Takes headerless mono float32 PCM, as compare_audio.sh's FFmpeg writes it: the original and the
restored at 16 kHz, then both at 8 kHz. Prints the scores as `key value` lines or one JSON
object (codec_toolkit.quality.KEYS, and `reasons` for each score that is null).
"""

from __future__ import annotations

# Inside the try: a Ctrl-C can land in the standard library's imports too.
try:
    import argparse
    import json
    import os
    import sys

    from codec_toolkit import errors
    errors.remember_ctrl_c()
    import numpy as np
    from codec_toolkit import quality
except ImportError as missing:  # numpy
    if errors.ctrl_c_seen():  # numpy reports a Ctrl-C in its import as an ImportError
        raise SystemExit(130) from None
    sys.exit(errors.fail(errors.program_name(os.path.basename(__file__)),
                         errors.missing_package(missing)))
except KeyboardInterrupt:  # Ctrl-C this early: compare_audio.sh says "interrupted" itself
    raise SystemExit(130) from None


def get_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    for name in ("original", "restored", "original_nb", "restored_nb"):
        parser.add_argument(name, metavar=name.upper(), help="float32 PCM")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--png", metavar="FILE", help="draw the spectrograms into FILE")
    parser.add_argument("--names", nargs=2, metavar=("ORIGINAL", "RESTORED"),
                        default=("original", "restored"), help="names for the pictures' titles")
    parser.add_argument("--codec", default="", help="codec for the restored picture's title")
    parser.add_argument("--kbps", type=float, help="the container's bitrate")
    parser.add_argument("--no-visqol", action="store_true", help="leave ViSQOL out (slowest)")
    return parser


def read_pcm(path: str) -> np.ndarray:
    return np.fromfile(path, dtype="<f4")


def text_lines(values: dict, reasons: dict) -> str:
    lines = []
    for key in quality.KEYS:
        value = values[key]
        shown = "-" if value is None else f"{value:.3f}"
        lines.append(f"{key:<13}{shown}" + (f"  ({reasons[key]})" if key in reasons else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    prog = errors.program_name(os.path.basename(__file__))
    args = get_parser(prog).parse_args(argv)
    try:
        pair = quality.align(*(read_pcm(p) for p in (args.original, args.restored,
                                                     args.original_nb, args.restored_nb)))
        values, reasons = quality.score(pair, visqol=not args.no_visqol)
        values["kbps"] = args.kbps
        if args.kbps is None:
            reasons["kbps"] = "no CONTAINER given"
        if args.png:
            from codec_toolkit import pictures
            kbps = "" if args.kbps is None else f", {args.kbps:g} kbps"
            codec = f" ({args.codec}{kbps})" if args.codec or kbps else ""
            pictures.spectrogram_figure(pair.ref, pair.deg, quality.RATE, args.png, (
                f"original: {args.names[0]}", f"restored: {args.names[1]}{codec}",
                f"difference: |restored| - |original| (lag {values['lag_ms']:.1f} ms removed)"))
    except errors.ToolkitError as exc:
        return errors.fail(prog, exc)
    except KeyboardInterrupt:  # the scores take seconds (ViSQOL: 5 s)
        if not os.environ.get("NEURAL_CODEC_PROG"):  # compare_audio.sh says it itself
            print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    values = {k: (None if values[k] is None else round(values[k], 4)) for k in quality.KEYS}
    if args.json:
        print(json.dumps({**values, "reasons": reasons}))
    else:
        print(text_lines(values, reasons))
    return 0


if __name__ == "__main__":
    sys.exit(main())

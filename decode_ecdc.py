#!/usr/bin/env python3
"""Decode a codec container (.ecdc, .snac, legacy torch.save .snac) into a mono WAV.

The WAV is at the model's sample rate and trimmed to the original length; decompress_audio.sh
then converts it with FFmpeg to the requested format and the original sample rate, which
`--info` reports without loading any model.
"""

from __future__ import annotations

import argparse
import os
import sys

try:
    import neural_codec as nc
except ImportError as missing:  # numpy, before the codec layer can speak for itself
    print(f"{os.environ.get('NEURAL_CODEC_PROG') or os.path.basename(__file__)}: Python package "
          f"missing: {missing.name} (run: make setup)", file=sys.stderr)
    sys.exit(3)


def get_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Decode .ecdc (EnCodec) or .snac (SNAC) into a mono WAV at the "
        "model's sample rate.")
    parser.add_argument("input", metavar="INPUT", help="container to decode")
    parser.add_argument("output", metavar="OUTPUT", nargs="?", help="WAV file to write")
    parser.add_argument("--info", action="store_true",
                        help="print the container's fields as key=value lines and exit")
    parser.add_argument("--model", help="SNAC: hub id or local directory to decode with "
                        "(default: the model the file records; files naming an unknown model "
                        "need this)")
    parser.add_argument("--default-model", metavar="ID",
                        help="SNAC: model for legacy files that do not record one "
                        f"(default: {nc.KNOWN_MODELS['snac'][0]})")
    parser.add_argument("--sample-rate", type=int, metavar="HZ",
                        help="SNAC: model rate for legacy files that do not record it")
    nc.add_run_arguments(parser)
    return parser


def container_of(path: str) -> str:
    """The container kind of `path` from its first bytes; BadInput if unknown."""
    try:
        with open(path, "rb") as fo:
            head = fo.read(8)
    except OSError as exc:
        raise nc.BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None
    kind = nc.sniff_container(head)
    if kind is None:
        raise nc.BadInput(f"{path}: not an .ecdc or .snac file (unknown first bytes)")
    return kind


def info(path: str) -> dict:
    """The container's fields, read without loading a model."""
    kind = container_of(path)
    with open(path, "rb") as fo:
        if kind == "ecdc":
            header = nc.read_ecdc_header(fo)
            return {"container": "ecdc", "model": header.model, "sample_rate": 24000,
                    "source_rate": header.source_rate or 24000, "samples": header.length,
                    "codebooks": header.codebooks, "lm": int(header.use_lm)}
        if kind == "snac":
            codes_header, codes = nc.read_ncdc(fo)
            return {"container": "snac", "model": codes_header.model,
                    "sample_rate": codes_header.sample_rate,
                    "source_rate": codes_header.source_rate, "samples": codes_header.length,
                    "levels": len(codes), "bits": codes_header.bits}
    meta, codes = nc.read_legacy_snac(path)
    fields = {"container": "snac-legacy", "levels": len(codes)}
    fields.update({k: v for k, v in meta.items() if v is not None})
    return fields


def main(argv: list[str] | None = None) -> int:
    prog = nc.program_name(os.path.basename(__file__))
    args = get_parser(prog).parse_args(argv)

    def body() -> int:
        if args.info:
            for key, value in info(args.input).items():
                print(f"{key}={value}")
            return 0
        if args.output is None:
            raise nc.ToolkitError("OUTPUT is required unless --info is given")
        kind = container_of(args.input)
        adapter = nc.get_codec("ecdc" if kind == "ecdc" else "snac")
        samples = info(args.input).get("samples") if nc.wants_progress(args) else None
        opts = nc.DecodeOptions(model=args.model, sample_rate=args.sample_rate,
                                default_model=args.default_model,
                                **nc.run_options(args, samples))
        decoded = adapter.decode(args.input, opts)
        nc.write_audio(args.output, decoded.chunks, decoded.sample_rate, decoded.length)
        return 0

    return nc.run_cli(prog, body)


if __name__ == "__main__":
    sys.exit(main())

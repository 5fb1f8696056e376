#!/usr/bin/env python3
"""Decode a codec container (.ecdc, .snac, .mimi, .dac, .semanticodec, legacy torch.save .snac)
into a mono WAV.

The WAV is at the model's sample rate and trimmed to the original length; decompress_audio.sh
then converts it with FFmpeg to the requested format and the original sample rate, which
`--reply` hands back after the decode (and `--info` reports without loading any model).
"""

from __future__ import annotations

# Inside the try: a Ctrl-C can land in the standard library's imports too.
try:
    import argparse
    import contextlib
    import json
    import os
    import sys
    import typing as tp

    # errors needs the standard library only: it speaks when numpy is missing.
    from codec_toolkit import errors
    errors.remember_ctrl_c()
    import neural_codec as nc
    from codec_toolkit import audio, codes, dac_file, ecdc, facts, legacy_snac, ncdc, runtime
except ImportError as missing:  # numpy, before the codec layer can speak for itself
    if errors.ctrl_c_seen():  # numpy reports a Ctrl-C in its import as an ImportError
        raise SystemExit(130) from None
    sys.exit(errors.fail(errors.program_name(os.path.basename(__file__)),
                         errors.missing_package(missing)))
except KeyboardInterrupt:  # Ctrl-C this early: the front-ends say "interrupted" themselves
    raise SystemExit(130) from None


def get_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Decode .ecdc (EnCodec), .snac (SNAC), .mimi (Mimi), .dac (DAC) "
        "or .semanticodec into a mono WAV at the model's sample rate.")
    parser.add_argument("input", metavar="INPUT", nargs="?", help="container to decode")
    parser.add_argument("output", metavar="OUTPUT", nargs="?", help="WAV file to write")
    parser.add_argument("--batch", metavar="LIST",
                        help="decode every file listed in LIST (tab-separated lines: input, "
                        "output WAV, name) as it is read (a FIFO works), loading each model "
                        "once; answers each line with its exit code, source rate and length in "
                        "ms")
    parser.add_argument("--reply", metavar="FILE",
                        help="after decoding INPUT, write its source rate and length in ms to "
                        "FILE, tab-separated, as --batch answers each line (what the front-end "
                        "renders the WAV with, without a second process for --info)")
    parser.add_argument("--info", action="store_true",
                        help="print the container's fields as key=value lines and exit: "
                        f"{', '.join(INFO_KEYS)} where known, then the container's own")
    parser.add_argument("--json", action="store_true",
                        help="with --info: the fields as one JSON object")
    parser.add_argument("--codes", action="store_true",
                        help="write INPUT's codes to OUTPUT as a NumPy .npz (arrays: README, "
                        "'Codes for ML users') instead of decoding; loads no model, except the "
                        "LM of an LM-coded .ecdc")
    parser.add_argument("--model", help="SNAC: hub id or local directory to decode with "
                        "(default: the model the file records; files naming an unknown model "
                        "need this)")
    parser.add_argument("--default-model", metavar="ID",
                        help="SNAC: model for legacy files that do not record one "
                        f"(default: {ncdc.KNOWN_MODELS['snac'][0]})")
    parser.add_argument("--sample-rate", type=int, metavar="HZ",
                        help="SNAC: model rate for legacy files that do not record it")
    parser.add_argument("--mimi-model", metavar="ID",
                        help="Mimi: hub id or local directory to decode with (default: the "
                        "model the file records; files naming an unknown model need this)")
    runtime.add_dac_arguments(parser)
    runtime.add_run_arguments(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {facts.version()}",
                        help="print the toolkit's version and exit")
    return parser


def container_of(path: str) -> str:
    """The container kind of `path` from its first bytes; BadInput if unknown."""
    try:
        with open(path, "rb") as fo:
            head = fo.read(8)
    except OSError as exc:
        raise errors.BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None
    kind = nc.sniff_container(head)
    if kind is None:
        raise errors.BadInput(f"{path}: not a file this toolkit decodes (unknown first bytes)")
    return kind


# --info's keys, printed in this order where the container knows them; its own follow.
# samples counts at sample_rate (.dac: at source_rate, the only rate it records); duration is in
# seconds, bytes the file's size, kbps bytes * 8 / duration / 1000.
INFO_KEYS = ("container", "codec", "model", "sample_rate", "source_rate", "samples", "duration",
             "codebooks", "levels", "streams", "bytes", "kbps")
INFO_DECIMALS = {"duration": 3, "kbps": 2, "input_db": 2}  # the float fields


def info(path: str) -> dict[str, tp.Any]:
    """The container's fields, read and checked without loading a model (INFO_KEYS)."""
    kind = container_of(path)
    module = {"ecdc": ecdc, "dac": dac_file, "snac-legacy": legacy_snac}.get(kind, ncdc)
    with open(path, "rb") as fo:
        fields = module.info_fields(fo)
    fields["bytes"] = os.path.getsize(path)
    if fields.get("duration"):
        fields["kbps"] = fields["bytes"] * 8 / fields["duration"] / 1000
    ordered = {key: fields[key] for key in INFO_KEYS if key in fields}
    return {**ordered, **fields}  # the container's own keys keep their order, after INFO_KEYS


def format_info(fields: dict[str, tp.Any], as_json: bool = False) -> str:
    """`key=value` lines (floats at INFO_DECIMALS places), or one JSON object."""
    shown = {key: round(value, INFO_DECIMALS[key]) if key in INFO_DECIMALS else value
             for key, value in fields.items()}
    if as_json:
        return json.dumps(shown) + "\n"
    return "".join(f"{key}={_one_line(value, INFO_DECIMALS.get(key))}\n"
                   for key, value in fields.items())


def _one_line(value: tp.Any, decimals: int | None) -> str:
    """`value` for a key=value line. A file's text (a model name) cannot start a line of its own:
    control characters are written as escapes."""
    if decimals is not None:
        return f"{value:.{decimals}f}"
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(value))


@contextlib.contextmanager
def naming(path: str) -> tp.Iterator[None]:
    """Prefix bad-input errors with the file at fault, unless they name it already."""
    try:
        yield
    except errors.BadInput as exc:
        if str(exc).startswith(path):
            raise
        raise type(exc)(f"{path}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    prog = errors.program_name(os.path.basename(__file__))
    args = get_parser(prog).parse_args(argv)

    def decode_one(input_path: str, output: str):
        with naming(input_path):
            return decode_file(input_path, output)

    def decode_file(input_path: str, output: str):
        kind = container_of(input_path)
        adapter = nc.get_codec("snac" if kind == "snac-legacy" else kind)
        wanted = runtime.wants_progress(args) and not args.batch
        samples = info(input_path).get("samples") if wanted else None
        opts = runtime.DecodeOptions(model=args.model, sample_rate=args.sample_rate,
                                     default_model=args.default_model,
                                     mimi_model=args.mimi_model, dac_model=args.dac_model,
                                     dac_bitrate=args.dac_bitrate,
                                     **runtime.run_options(args, samples))
        decoded = adapter.decode(input_path, opts)
        audio.write_audio(output, decoded.chunks, decoded.sample_rate, decoded.length)
        return decoded

    def export_one(input_path: str, output: str) -> str:
        """Write the codes; the audio's length in milliseconds, for a batch's summary."""
        with naming(input_path):
            opts = codes.ExportOptions(default_model=args.default_model,
                                       sample_rate=args.sample_rate, dac_model=args.dac_model,
                                       dac_bitrate=args.dac_bitrate)
            arrays = codes.export_codes(input_path, container_of(input_path), opts)
        audio.write_atomically(output, codes.save_codes(arrays))
        return str(int(arrays["samples"]) * 1000 // int(arrays["sample_rate"]))

    def decode_listed(fields: list[str]) -> str:
        decoded = decode_one(fields[0], fields[1])
        return f"{decoded.source_rate}\t{decoded.length * 1000 // decoded.sample_rate}"

    def body() -> int:
        if args.reply and (args.batch or args.codes or args.info):
            raise errors.UsageError("--reply goes with decoding one INPUT, not with --batch, "
                                    "--info or --codes")
        if args.batch:
            # Lines of INPUT, OUTPUT, NAME; answers each with the source rate and the length in
            # milliseconds.
            if args.codes:
                return nc.run_batch(prog, args.batch, lambda f: export_one(f[0], f[1]))
            return nc.run_batch(prog, args.batch, decode_listed)
        if args.input is None:
            raise errors.UsageError("INPUT is required unless --batch is given")
        if args.json and not args.info:
            raise errors.UsageError("--json goes with --info")
        if args.info:
            with naming(args.input):
                fields = info(args.input)
            print(format_info(fields, args.json), end="")
            return 0
        if args.output is None:
            raise errors.UsageError("OUTPUT is required unless --info is given")
        if args.codes:
            export_one(args.input, args.output)
        elif args.reply:
            answer = decode_listed([args.input, args.output])
            audio.write_atomically(args.reply, f"{answer}\n".encode())
        else:
            decode_one(args.input, args.output)
        return 0

    return nc.run_cli(prog, body)


if __name__ == "__main__":
    nc.exit_now(main())

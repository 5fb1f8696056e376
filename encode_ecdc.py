#!/usr/bin/env python3
"""Encode a mono WAV at the model's rate into a codec container (.ecdc, .snac, .mimi, .dac,
.semanticodec).

compress_audio.sh converts any input with FFmpeg and then calls this helper; it can also be run
on its own. Errors are one line, `prog: message`, with the exit codes of the README.
"""

from __future__ import annotations

# Inside the try: a Ctrl-C can land in the standard library's imports too.
try:
    import argparse
    import io
    import os
    import sys
    import time

    # errors needs the standard library only: it speaks when numpy is missing.
    from codec_toolkit import errors
    errors.remember_ctrl_c()
    import neural_codec as nc
    from codec_toolkit import audio, binary, codes, facts, ncdc, runtime
except ImportError as missing:  # numpy, before the codec layer can speak for itself
    if errors.ctrl_c_seen():  # numpy reports a Ctrl-C in its import as an ImportError
        raise SystemExit(130) from None
    sys.exit(errors.fail(errors.program_name(os.path.basename(__file__)),
                         errors.missing_package(missing)))
except KeyboardInterrupt:  # Ctrl-C this early: the front-ends say "interrupted" themselves
    raise SystemExit(130) from None

BITRATES = tuple(facts.ENCODEC_BITRATES)  # "1.5", "3", ...: the spellings --bitrate takes


def get_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Encode a mono WAV at the model's sample rate into .ecdc "
        "(EnCodec 24 kHz), .snac (SNAC), .mimi (Mimi), .dac (DAC) or .semanticodec.")
    parser.add_argument("input", metavar="INPUT", nargs="?",
                        help="mono WAV at the model's sample rate")
    parser.add_argument("output", metavar="OUTPUT", nargs="?",
                        help="container to write (.ecdc, .snac, .mimi, .dac, .semanticodec)")
    parser.add_argument("--batch", metavar="LIST",
                        help="encode every file listed in LIST (tab-separated lines: input, "
                        "output, source rate, name) as it is read (a FIFO works), loading the "
                        "model once; answers each line with its exit code and length in ms")
    parser.add_argument("--from-codes", action="store_true",
                        help="INPUT is a NumPy .npz of codes (arrays: README, 'Codes for ML "
                        "users'); build OUTPUT from them instead of encoding audio. Every array "
                        "is checked; --model vouches for a SNAC or Mimi model outside the known "
                        "set")
    parser.add_argument("--prepare", action="store_true",
                        help="build the compiled and ONNX networks of SNAC and Mimi's compiled "
                        "encoder and decoder (--model, default: each known SNAC and Mimi model "
                        "in the cache; Mimi's encoder for --codebooks, default 8) now, for "
                        "machines prepared ahead of use; otherwise the first encode or decode "
                        "builds them (once)")
    parser.add_argument("--codec", choices=sorted(nc.CODECS),
                        help="codec to use (default: from OUTPUT's extension)")
    parser.add_argument("--bitrate", choices=BITRATES, default="1.5",
                        help="EnCodec bitrate in kbps (default: 1.5)")
    parser.add_argument("--lm", action="store_true",
                        help="EnCodec: entropy-code with the language model (smaller, slower)")
    parser.add_argument("--model", help="SNAC or Mimi: hub id or local directory "
                        f"(default: {ncdc.KNOWN_MODELS['snac'][0]}, "
                        f"{ncdc.KNOWN_MODELS['mimi'][0]})")
    parser.add_argument("--codebooks", type=int, metavar="N",
                        help="Mimi: codebooks kept, 1 to 32 (default: 8, 1.1 kbps); DAC: 1 to the "
                        "model's count (default: all)")
    runtime.add_dac_arguments(parser)
    parser.add_argument("--token-rate", type=int, choices=ncdc.SEMANTICODEC_TOKEN_RATES,
                        default=ncdc.SEMANTICODEC_DEFAULTS[0],
                        help="SemantiCodec: tokens per second (default: %(default)s)")
    parser.add_argument("--vocab-size", type=int, choices=ncdc.SEMANTICODEC_VOCAB_SIZES,
                        default=ncdc.SEMANTICODEC_DEFAULTS[1],
                        help="SemantiCodec: semantic vocabulary size (default: %(default)s)")
    parser.add_argument("--sample-rate", type=int, metavar="HZ",
                        help="the rate INPUT is at; must match the model")
    parser.add_argument("--raw", action="store_true",
                        help="INPUT is headerless float32 little-endian mono at --sample-rate")
    parser.add_argument("--source-rate", type=int, metavar="HZ",
                        help="sample rate of the original file, recorded so decoding can "
                        "restore it (default: INPUT's rate)")
    runtime.add_run_arguments(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {facts.version()}",
                        help="print the toolkit's version and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    prog = errors.program_name(os.path.basename(__file__))
    args = get_parser(prog).parse_args(argv)

    def encode_one(input_path: str, output: str, source_rate: int | None) -> str:
        """Encode one file; its audio's length in milliseconds, for a batch's summary."""
        codec = args.codec or os.path.splitext(output)[1].lstrip(".").lower()
        if codec not in nc.CODECS:
            raise errors.UsageError(f"{output}: unknown extension; use "
                                    f"{', '.join('.' + name for name in nc.CODECS)}, or --codec")
        if source_rate is not None and not binary.MIN_RATE <= source_rate <= binary.MAX_RATE:
            # What every container's reader would refuse as a bad field.
            raise errors.BadValue(f"source rate {source_rate} Hz is out of range "
                                  f"{binary.MIN_RATE}..{binary.MAX_RATE} Hz")
        rate = args.sample_rate or _rate_of(input_path)
        if args.raw:
            samples = audio.read_raw_audio(input_path)
        else:
            samples = audio.read_audio(input_path, rate)
        opts = runtime.EncodeOptions(
            source_rate=source_rate or rate, bitrate=float(args.bitrate), use_lm=args.lm,
            model=args.model, sample_rate=rate, codebooks=args.codebooks,
            dac_model=args.dac_model, dac_bitrate=args.dac_bitrate, token_rate=args.token_rate,
            vocab_size=args.vocab_size,
            **runtime.run_options(args, None if args.batch else len(samples)))
        buffer = io.BytesIO()
        try:
            nc.get_codec(codec).encode(samples, buffer, opts)
        except errors.RateMismatch as exc:
            if args.sample_rate:
                raise
            raise errors.BadInput(f"{input_path}: {exc}") from None  # the file's own rate
        audio.write_atomically(output, buffer.getvalue())
        return str(len(samples) * 1000 // rate)

    def build_one(input_path: str, output: str) -> None:
        codec = args.codec or os.path.splitext(output)[1].lstrip(".").lower()
        if codec not in codes.CODES_CODECS:
            raise errors.UsageError(f"{output}: codes build only "
                                    f"{', '.join('.' + c for c in codes.CODES_CODECS)}")
        buffer = io.BytesIO()
        try:
            codes.build_container(codes.load_codes(input_path), buffer, codec, args.model)
        except errors.BadInput as exc:
            raise type(exc)(exc if str(exc).startswith(input_path) else
                            f"{input_path}: {exc}") from None
        audio.write_atomically(output, buffer.getvalue())

    def prepare() -> int:
        runtime.run_options(args, None)
        failed = 0
        for codec, model_id in models_to_prepare():
            start = time.monotonic()
            try:
                ready, failures = prepare_model(codec, model_id)
            except errors.ToolkitError as exc:
                if args.model:
                    raise
                ready, failures = [], [exc]
            if ready:
                networks = f"{len(ready)} network{'s' * (len(ready) > 1)}"
                print(f"{prog}: {model_id}: {networks} ready in "
                      f"{time.monotonic() - start:.1f} s", file=sys.stderr)
            if failures and args.model:
                raise failures[0]
            for exc in failures:
                print(f"{prog}: {model_id}: not prepared: {exc}", file=sys.stderr)
            failed += bool(failures)
        return errors.EXIT_MISSING_DEPENDENCY if failed else 0

    def models_to_prepare() -> list[tuple[str, str]]:
        """(codec, model) pairs: --model's (Mimi when --codec says so or the model is a known
        Mimi model, else SNAC), or every known SNAC and Mimi model."""
        if args.model:
            mimi = args.codec == "mimi" or args.model in ncdc.KNOWN_MODELS["mimi"]
            return [("mimi" if mimi else "snac", args.model)]
        return [(codec, model_id) for codec in ("snac", "mimi")
                for model_id in ncdc.KNOWN_MODELS[codec]]

    def prepare_model(codec: str, model_id: str) -> tuple[list[str], list[Exception]]:
        if codec == "snac":
            from codec_toolkit import snac, snac_backends

            return snac_backends.prepare(snac.load_snac(model_id))
        from codec_toolkit import mimi, mimi_compiled

        codebooks = mimi.MIMI_CODEBOOKS if args.codebooks is None else args.codebooks
        return mimi_compiled.prepare(mimi.load_mimi(model_id), model_id, codebooks)

    def body() -> int:
        if args.prepare:
            return prepare()
        if args.raw and not args.sample_rate:
            raise errors.UsageError("--raw needs --sample-rate")
        if args.batch:
            # Lines of INPUT, OUTPUT, SOURCE_RATE (may be empty), NAME for messages.
            return nc.run_batch(prog, args.batch,
                                lambda f: encode_one(f[0], f[1], int(f[2]) if f[2] else None))
        if args.input is None or args.output is None:
            raise errors.UsageError("INPUT and OUTPUT are required unless --batch is given")
        if args.from_codes:
            build_one(args.input, args.output)
        else:
            encode_one(args.input, args.output, args.source_rate)
        return 0

    return nc.run_cli(prog, body)


def _rate_of(path: str) -> int:
    import soundfile

    try:
        return soundfile.info(path).samplerate
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise errors.BadInput(f"{path}: cannot read audio ({exc})") from None


if __name__ == "__main__":
    nc.exit_now(main())

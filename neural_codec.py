"""The front door of the codec layer: the codec registry, container sniffing, and the CLI
runner and batch loop of the helpers (encode_ecdc.py, decode_ecdc.py).

The codecs, containers and shared pieces live in the codec_toolkit package. Importing this
module is cheap: torch and the codec packages are imported inside the functions that need them,
so `--help` and header inspection (`decode_ecdc.py --info`) never pay for them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import typing as tp

from codec_toolkit import dac_file, ecdc, legacy_snac, ncdc
from codec_toolkit.dac import DacAdapter
from codec_toolkit.encodec import EncodecAdapter
from codec_toolkit.errors import (EXIT_BATCH, BadInput, MissingPackage, ToolkitError, fail,
                                  ctrl_c_seen, first_line, missing_package)
from codec_toolkit.mimi import MimiAdapter
from codec_toolkit.semanticodec import SemantiCodecAdapter
from codec_toolkit.snac import SnacAdapter

# Codec adapters: one per codec, one interface, one registry.

CODECS: dict[str, tp.Any] = {
    "ecdc": EncodecAdapter,
    "snac": SnacAdapter,
    "mimi": MimiAdapter,
    "dac": DacAdapter,
    "semanticodec": SemantiCodecAdapter,
}


def get_codec(name: str):
    """The adapter registered under `name` (one of CODECS)."""
    return CODECS[name]()


def sniff_container(head: bytes) -> str | None:
    """'ecdc', 'snac', 'mimi' or 'semanticodec' (NCDC), 'dac' (numpy.save), 'snac-legacy'
    (torch.save), or None, from a file's first bytes (at least 6 of them for NCDC's codec byte)."""
    if head.startswith(ecdc.ECDC_MAGIC):
        return "ecdc"
    if head.startswith(ncdc.NCDC_MAGIC):
        # An unknown codec byte reads as SNAC, whose reader then names the bad field.
        codec = {v: k for k, v in ncdc.CODEC_IDS.items()}.get(head[5] if len(head) > 5 else 0)
        return codec or "snac"
    if head.startswith(dac_file.DAC_MAGIC):
        return "dac"
    if legacy_snac.is_legacy_snac(head):
        return "snac-legacy"
    return None


# ---------------------------------------------------------------------------------------------
# Running the helpers: one error voice, a batch loop, and signals that still let cleanup run.

class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that `finally` blocks remove temporary files."""

    def __init__(self, exit_code: int) -> None:
        super().__init__()
        self.exit_code = exit_code


def run_batch(prog: str, list_path: str, one: tp.Callable[[list[str]], str]) -> int:
    """Run `one` on the tab-separated fields of each line of `list_path`, line by line as it
    is read (a batch worker's FIFO, or a file), and answer each on stdout: "0<TAB>EXTRA" with
    what `one` returned, or "CODE<TAB>" with the exit code of its failure, reported on stderr
    under the last field's name. A failing file is skipped; the rest still run."""
    try:
        fo = open(list_path, encoding="utf-8")  # noqa: SIM115 - read line by line below
    except OSError as exc:
        raise BadInput(f"{list_path}: cannot read ({exc.strerror or exc})") from None
    failed = 0
    with fo:
        for line in fo:
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            extra, code = "", 0
            try:
                extra = one(fields) or ""
            except MissingPackage:
                raise  # every item would fail the same way
            except ImportError as exc:
                raise missing_package(exc) from None
            except ToolkitError as exc:
                print(f"{prog}: {fields[-1]}: {_without_paths(str(exc), fields[:-1])}",
                      file=sys.stderr)
                code = exc.exit_code
            except Exception as exc:  # noqa: BLE001 - one file's bug must not end the batch
                if os.environ.get("NEURAL_CODEC_DEBUG"):
                    raise
                print(f"{prog}: {fields[-1]}: internal error: {type(exc).__name__}: "
                      f"{first_line(exc)}", file=sys.stderr)
                code = 1
            failed += code != 0
            print(f"{code}\t{extra}", flush=True)
    return EXIT_BATCH if failed else 0


def _without_paths(message: str, paths: list[str]) -> str:
    """`message` without a leading "PATH: " of the item's own files: the line names the file
    once, by the name the user gave."""
    for path in paths:
        if path and message.startswith(path + ": "):
            return message[len(path) + 2:]
    return message


def _raise_interrupt(signum: int, frame: tp.Any) -> None:
    caller = frame
    while caller is not None:
        if caller.f_code.co_name == "__del__":
            # Raised inside a finalizer, the exception would be printed as "Exception ignored"
            # and dropped: deliver the signal again once the finalizer has returned.
            threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
            return
        caller = caller.f_back
    # A second SIGTERM must not break off the cleanup that this one starts.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(128 + signum)


def _exit_at_once(signum: int, frame: tp.Any) -> None:
    os._exit(128 + signum)


def exit_now(code: int) -> tp.NoReturn:
    """End a helper run from the command line with `code`, skipping the interpreter's teardown:
    unloading torch's modules and finalising its objects took 0.3-0.5 s of every run, and every
    output is written, renamed and closed by the time the body returns."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the reader has what it wanted
            code = code or 1
    os._exit(code)


def _interrupted(prog: str, code: int) -> int:
    if not os.environ.get("NEURAL_CODEC_PROG"):  # the front-ends say it themselves
        print(f"{prog}: interrupted", file=sys.stderr)
    return code


def run_cli(prog: str, body: tp.Callable[[], int]) -> int:
    """Run a helper's body with the toolkit's error voice: one line, a documented exit code.
    Unexpected exceptions are bugs: one line too, with the traceback behind NEURAL_CODEC_DEBUG=1."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return body()
    except ToolkitError as exc:
        return fail(prog, exc)
    except KeyboardInterrupt as exc:
        return _interrupted(prog, getattr(exc, "exit_code", 130))
    except ImportError as exc:  # torch and the codec packages are imported where first needed
        if ctrl_c_seen():  # numpy turns a Ctrl-C inside its import into an ImportError
            return _interrupted(prog, 130)
        return fail(prog, missing_package(exc))
    except Exception as exc:  # noqa: BLE001 - the last line of defence of a CLI
        if os.environ.get("NEURAL_CODEC_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(exc).__name__}: {first_line(exc)} "
              f"(set NEURAL_CODEC_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1
    finally:
        # Everything is written or cleaned up by now: a SIGTERM while the interpreter shuts
        # down (atexit hooks, finalizers) ends the process with its code, without a traceback.
        signal.signal(signal.SIGTERM, _exit_at_once)

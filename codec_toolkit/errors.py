"""The toolkit's one error voice: exit codes, the exception tree, and `prog: message` lines.

Every failure a user can cause is a ToolkitError whose class carries its documented exit code,
so the helpers and the shell front-ends report errors the same way.
"""

from __future__ import annotations

import os
import sys

# Exit codes shared with the shell front-ends (README, "Exit codes").
EXIT_USAGE = 2
EXIT_MISSING_DEPENDENCY = 3
EXIT_BAD_INPUT = 4
EXIT_BAD_VALUE = 5
EXIT_CODEC_FAILURE = 6
EXIT_OUTPUT = 7
EXIT_BATCH = 8  # some files of a batch failed; each was reported


class ToolkitError(Exception):
    """An error reported to the user as one line, with a documented exit code."""

    exit_code = 1


class UsageError(ToolkitError):
    exit_code = EXIT_USAGE


class MissingDependency(ToolkitError):
    exit_code = EXIT_MISSING_DEPENDENCY


class MissingPackage(MissingDependency):
    """A Python package that is not installed or does not import. Every file would fail the
    same way, so a batch stops at the first."""


class BadInput(ToolkitError):
    exit_code = EXIT_BAD_INPUT


class BadValue(ToolkitError):
    exit_code = EXIT_BAD_VALUE


class CodecFailure(ToolkitError):
    exit_code = EXIT_CODEC_FAILURE


class RateMismatch(BadValue):
    """The input's sample rate is not the model's: the caller's setting, or the file's."""


class OutputError(ToolkitError):
    exit_code = EXIT_OUTPUT


class ContainerError(BadInput):
    """A container that cannot be read: the base of the specific failures below."""


class BadMagic(ContainerError):
    pass


class UnsupportedVersion(ContainerError):
    pass


class TruncatedStream(ContainerError):
    pass


class ChecksumMismatch(ContainerError):
    pass


class InvalidField(ContainerError):
    pass


def fail(prog: str, exc: ToolkitError) -> int:
    """Print `prog: message` on one line and return the error's exit code."""
    print(f"{prog}: {exc}", file=sys.stderr)
    return exc.exit_code


def program_name(default: str) -> str:
    """The name errors are reported under: the shell front-end that called us, if any."""
    return os.environ.get("NEURAL_CODEC_PROG") or default


def first_line(exc: Exception) -> str:
    """The first line of `exc`'s message (200 characters at most), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def missing_package(exc: ImportError, hint: str = "run: make setup") -> MissingPackage:
    """The one-line error of a failed import, naming the top-level package and what installs it:
    `Python package missing: torch (run: make setup)`."""
    name = (exc.name or "").split(".")[0]
    if isinstance(exc, ModuleNotFoundError) and name:
        return MissingPackage(f"Python package missing: {name} ({hint})")
    # Installed but broken or of another version ("cannot import name ..."): say what Python said.
    return MissingPackage(f"Python package {name or '?'} does not import: {first_line(exc)} "
                          f"({hint})")


_ctrl_c_seen = False


def remember_ctrl_c() -> None:
    """Keep Python's Ctrl-C (KeyboardInterrupt) but remember that it came: numpy turns one that
    lands inside its import into an ImportError, which must not read as a broken install.
    A SIGINT that Python does not handle (ignored by the parent) stays as it is."""
    import signal

    def on_ctrl_c(signum, frame):
        global _ctrl_c_seen
        _ctrl_c_seen = True
        raise KeyboardInterrupt

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_ctrl_c)


def ctrl_c_seen() -> bool:
    """Whether a Ctrl-C reached this process since `remember_ctrl_c`."""
    return _ctrl_c_seen

"""How the ``ssb`` command reports an error: the expected ones (bad input, a missing prerequisite) in one
line, and an environment's condition (a full or read-only disk) with what to do about it, naming the
folder at fault."""

from __future__ import annotations

import argparse
import errno
from pathlib import Path

from .cli_common import UsageError
from .config import ConfigError
from .paths import cache_root


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean bad input or a missing prerequisite: one line, exit 2 (``--debug``: traceback)."""
    from .artifacts import LockTimeout
    from .budget import BudgetError
    from .claims import MeasureError, SpecError, TierError
    from .compare import CompareError
    from .data import DataError
    from .device import DeviceError
    from .model import CheckpointError
    from .reference import MissingReference, StaleReference
    from .report import ReadmeError, ReportError
    from .tokenizer import TokenizerError
    from .train import Interrupted

    return (
        UsageError,
        ConfigError,
        CompareError,
        BudgetError,
        SpecError,
        TierError,
        MeasureError,
        DataError,
        DeviceError,
        CheckpointError,
        TokenizerError,
        MissingReference,
        StaleReference,
        Interrupted,
        LockTimeout,
        ReadmeError,
        ReportError,
    )


# What an OSError from the environment (not from a bug) says to do, by errno.
ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "the disk is full: free space or point SSB_CACHE_DIR / --cache-dir / --out elsewhere",
    errno.EDQUOT: "the disk quota is exceeded: free space or point SSB_CACHE_DIR / --cache-dir / --out elsewhere",
    errno.EROFS: "the file system is read-only: point SSB_CACHE_DIR / --cache-dir / --out to a writable folder",
    errno.EACCES: "permission denied: the path named must be writable or readable by you",
    errno.EPERM: "permission denied: the path named must be writable or readable by you",
    errno.ENAMETOOLONG: "a path is too long for the file system: use a shorter --cache-dir / --out",
    errno.ENOTDIR: "a path that must be a folder is a file",
    errno.EISDIR: "a path that must be a file is a folder",
    errno.ENOENT: "a file or folder is missing",
    errno.EEXIST: "a file is in the way",
}
# The same conditions as native libraries (safetensors, tokenizers, torch) word them.
_ENVIRONMENT_WORDS = {
    "No space left on device": errno.ENOSPC,
    "(os error 28)": errno.ENOSPC,
    "Read-only file system": errno.EROFS,
    "(os error 30)": errno.EROFS,
    "File name too long": errno.ENAMETOOLONG,
}


def environment_errno(err: BaseException) -> int | None:
    """The errno of an environment condition behind ``err`` (through its causes), else None."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in ENVIRONMENT_ERRNOS:
            return err.errno
        for words, number in _ENVIRONMENT_WORDS.items():
            if words in str(err):
                return number
        err = err.__cause__ or err.__context__
    return None


def environment_hint(err: BaseException, number: int, args: argparse.Namespace) -> str:
    """What to do about an environment condition, naming the folder at fault: the store's advice for a path in
    the store, the report's for a path in ``--out``, else the general one of ``ENVIRONMENT_ERRNOS``."""
    hint = ENVIRONMENT_ERRNOS[number]
    if number not in (errno.EACCES, errno.EPERM):
        return hint
    filename = None
    seen: set[int] = set()
    while err is not None and id(err) not in seen and filename is None:
        seen.add(id(err))
        filename = getattr(err, "filename", None)
        err = err.__cause__ or err.__context__
    if not filename:
        return hint
    path = Path(filename).absolute()
    out = getattr(args, "out", None)
    if out and (
        path == Path(out).absolute()
        or Path(out).absolute() in path.parents
        or path.name.startswith(f".{Path(out).name}.")
    ):
        return f"the output folder --out {out} must be writable: name one you own"
    store = cache_root(getattr(args, "cache_dir", None))  # where it is, without reading it (it may be the fault)
    if path == store or store in path.parents:
        return "the artifact store must be writable: set SSB_CACHE_DIR or --cache-dir to a folder you own"
    return f"{path} must be writable or readable by you"


def _one_line(err: BaseException, hint: str = "") -> str:
    message = " ".join(str(err).split()) or type(err).__name__
    return f"{message}{f' ({hint})' if hint else ''} [{type(err).__name__}; --debug shows the traceback]"

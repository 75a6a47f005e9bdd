"""A per-user cache of compiled expressions, so that repeated calls skip sympy entirely.

Entries are small JSON files in ``$XDG_CACHE_HOME/numdiff`` (default ``~/.cache/numdiff``), one per key. The key
is the numdiff version, a digest of the parser and code generator sources, the kind of entry and its inputs
(expression text, variables, derivative order); the file name is the SHA-256 of the key, and the key is stored
again inside the file and compared on reading.

Why loading cached code is safe
-------------------------------
An entry holds Python source that is evaluated when loaded, so the cache is guarded in depth:

1. The directory is created with mode 0700 and used only if it is a real directory (not a symlink) owned by
   the current user that no one else can write to; entry files are opened without following symlinks and
   used only if they are regular files owned by the user and not writable by others. Another user therefore
   cannot plant or modify an entry; the user's own processes could, but they can already run any code.
2. Independently of where it came from, the code is re-validated before it is evaluated
   (:func:`numdiff_cli.codegen.check_code`): it must be a single expression made only of arithmetic,
   comparisons and calls of whitelisted numpy/mpmath functions on the arguments, and it runs without builtins.
   So only code of the form numdiff generates from a validated expression is ever executed.
3. Entries are written atomically (a private temporary file, then ``os.replace``), so a reader never sees a
   half-written file; an entry that cannot be read or fails any check is ignored and rebuilt. An entry is opened
   without blocking (a FIFO in its place is refused, not waited on) and read up to :data:`MAX_ENTRY_BYTES`.
4. The cache holds at most :data:`MAX_ENTRIES` entries; past that, the oldest are removed when one is written.

What an entry computes is not checked against sympy (that would cost what the cache saves): a process of the
same user can make an entry compute a different, still bounded, arithmetic expression, as it could edit
numdiff's own files. The whitelist bounds what such an entry can do: no hang, no I/O, no call outside it.

``--no-cache`` or ``NUMDIFF_NO_CACHE=1`` turns the cache off (nothing read, nothing written).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from numdiff_cli import __version__

FORMAT = 1
MAX_ENTRY_BYTES = 1_000_000
# At most this many entries (so at most MAX_ENTRIES * MAX_ENTRY_BYTES bytes; typical entries are under 2 KB).
MAX_ENTRIES = 2_000
_warned: set[str] = set()


def enabled(no_cache: bool = False) -> bool:
    """False with ``--no-cache`` or ``NUMDIFF_NO_CACHE`` set to anything but empty or ``0``."""
    # Without os.getuid (Windows) the ownership checks below cannot be made: no cache then.
    return not no_cache and os.environ.get("NUMDIFF_NO_CACHE", "") in ("", "0") and hasattr(os, "getuid")


def directory() -> Path:
    """``$XDG_CACHE_HOME/numdiff``, or ``~/.cache/numdiff`` when that variable is unset or not absolute."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "numdiff"


# The modules whose behaviour an entry depends on: the table of functions, the parser (what is accepted, and how it
# is read: structure, floats) and the code generation. Their content is part of the key, so a changed parser never
# serves entries it would now refuse, even between two releases with the same version number (an editable install,
# a patched copy). The tests check that every module these import is listed here.
SOURCES = (
    "functions.py",
    "array_nodes.py",
    "special.py",
    "arrays.py",
    "errors.py",
    "structure.py",
    "floats.py",
    "builder.py",
    "subscripts.py",
    "bound.py",
    "perturbed.py",
    "perturbed_arrays.py",
    "components.py",
    "codegen.py",
    "expr.py",
    "compiled.py",
    "deadline.py",
    "analytic.py",
    "cache.py",
)


@functools.cache
def fingerprint() -> str:
    """A short digest of the :data:`SOURCES` (read, never imported: this costs well under a millisecond)."""
    digest = hashlib.sha256()
    for name in SOURCES:
        try:
            digest.update((Path(__file__).parent / name).read_bytes())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()[:16]


def key(kind: str, *parts: Any) -> list[Any]:
    """The full key of an entry: format, numdiff version and source fingerprint, kind and inputs."""
    return [FORMAT, __version__, fingerprint(), kind, *parts]


def _filename(entry_key: list[Any]) -> str:
    digest = hashlib.sha256(json.dumps(entry_key, separators=(",", ":")).encode()).hexdigest()
    return digest + ".json"


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        sys.stderr.write(f"Warning: {message}\n")


def _private_directory(create: bool) -> Path | None:
    """The cache directory if it is safe to use (created 0700 when ``create``), else None."""
    try:
        path = directory()
    except (RuntimeError, KeyError, OSError):  # no home directory to be found
        return None
    if not path.is_absolute():
        return None
    if create:
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return None
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        _warn_once(f"not using the cache {path}: it must be a directory owned by you that only you can write")
        return None
    return path


def load(entry_key: list[Any]) -> Any | None:
    """The data stored under ``entry_key``, or None when absent, unsafe or unreadable."""
    path = _private_directory(create=False)
    if path is None:
        return None
    try:
        # O_NONBLOCK: a FIFO in place of an entry would block the open (and the read) until a writer came.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path / _filename(entry_key), flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            return None
        if info.st_size > MAX_ENTRY_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as file:
            raw = file.read(MAX_ENTRY_BYTES + 1)  # the file may have grown since fstat
        if len(raw) > MAX_ENTRY_BYTES:
            return None
        document = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(fd)
    if not isinstance(document, dict) or document.get("key") != entry_key:
        return None
    return document.get("data")


def store(entry_key: list[Any], data: Any) -> None:
    """Write ``data`` under ``entry_key`` atomically; any failure just leaves the cache as it was."""
    path = _private_directory(create=True)
    if path is None:
        return
    text = json.dumps({"key": entry_key, "data": data}, separators=(",", ":"))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path)  # mode 0600
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path / _filename(entry_key))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return
    _evict(path)


def _evict(path: Path) -> None:
    """Keep the cache under :data:`MAX_ENTRIES` entries: past it, the least recently written quarter goes.

    Runs after a store only (a store follows sympy's work, which costs far more than listing the directory).
    """
    try:
        with os.scandir(path) as listing:
            entries = [
                (entry.stat(follow_symlinks=False).st_mtime, entry.path)
                for entry in listing
                if entry.name.endswith(".json") and entry.is_file(follow_symlinks=False)
            ]
    except OSError:
        return
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort()
    for _, name in entries[: len(entries) - MAX_ENTRIES * 3 // 4]:
        with contextlib.suppress(OSError):
            os.unlink(name)

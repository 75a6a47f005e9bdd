"""Lines of standard input as they come: in batches of up to a chunk's size, a batch handed on as soon as the input
pauses or has waited :data:`LONGEST_WAIT`, so that a slow producer (a person typing, ``tail -f``, a sensor) sees
each result within :data:`PAUSE` of its line, or half a second, instead of at the end of the input or after a
chunk's worth of lines.

On POSIX the bytes are read as they arrive from the stream's buffer (``read1``) and decoded with the stream's own
encoding and error handler, lines split at ``\\n`` as standard input's text layer splits them there; where that is
not possible (an in-memory stream, another platform), the text layer's ``readlines`` as before: batches of about a
megabyte, or what is left at the end. Imports no numpy: the command line reads the first line early (the shape of a
vector variable).
"""

from __future__ import annotations

import codecs
import os
import select
import time
from collections.abc import Iterator
from typing import IO, Any

# A batch is handed on once the input has had nothing more to read for this long (seconds). A producer that writes
# as fast as it can refills a pipe well within it, so that its batches stay whole chunks.
PAUSE = 0.05
# ... or once its first line has waited this long (seconds), so that a producer that never pauses that long (a line
# every 20 ms) still sees its results as it goes; one that writes as fast as it can fills a chunk well within it.
LONGEST_WAIT = 0.5
# Bytes asked of the stream per read (it returns what it has, up to this).
READ_BYTES = 1 << 20


class LineReader:
    """The lines of a text ``stream``, without their ``\\n``: :meth:`peek` (the first one, which stays to be read)
    and :meth:`batches`."""

    def __init__(self, stream: IO[str] | Any):
        self.stream = stream
        self.closed = bool(getattr(stream, "closed", False))
        self.lines: list[str] = []
        self.tail = ""  # the start of a line whose end has not come yet
        self.ended = False
        self.unterminated = False  # the last line of the input has no "\n"
        self.since = 0.0  # when the first of the lines read and not yet handed on came
        self.fd: int | None = None
        self.raw: Any = None
        buffer = getattr(stream, "buffer", None)
        if os.name == "posix" and buffer is not None and hasattr(buffer, "read1") and not self.closed:
            try:
                self.fd = stream.fileno()
                self.decoder = codecs.getincrementaldecoder(getattr(stream, "encoding", None) or "utf-8")(
                    getattr(stream, "errors", None) or "strict"
                )
                self.raw = buffer
            except (AttributeError, OSError, ValueError, LookupError):
                self.fd = None

    def peek(self) -> str:
        """The first line not yet read, with its ``\\n`` if it has one ("" at the end of the input); it stays to be
        read."""
        while not self.lines and not self.ended:
            self._read()
        if not self.lines:
            return ""
        last = len(self.lines) == 1 and self.unterminated
        return self.lines[0] if last else self.lines[0] + "\n"

    def batches(self, size: int) -> Iterator[list[str]]:
        """The lines, in lists of at most ``size``: whole ones while the input keeps coming, and what has come
        whenever it pauses (:data:`PAUSE`), its first line has waited :data:`LONGEST_WAIT`, or the input ends."""
        while True:
            if len(self.lines) >= size:
                batch, self.lines = self.lines[:size], self.lines[size:]
                self.since = time.monotonic()
                yield batch
            elif self.ended:
                if self.lines:
                    batch, self.lines = self.lines, []
                    yield batch
                return
            elif self.lines and not self._coming():
                batch, self.lines = self.lines, []
                yield batch
            else:
                self._read()

    def _coming(self) -> bool:
        """Whether more input is there to read within :data:`PAUSE`, and the lines read have waited less than
        :data:`LONGEST_WAIT` (the text layer's reads: never known)."""
        if self.fd is None:
            return False
        left = LONGEST_WAIT - (time.monotonic() - self.since)
        if left <= 0:
            return False
        try:
            return bool(select.select([self.fd], [], [], min(PAUSE, left))[0])
        except (OSError, ValueError):
            return True

    def _read1(self) -> bytes | None:
        try:
            data = self.raw.read1(READ_BYTES)
        except BlockingIOError:
            return None
        return None if data is None else bytes(data)

    def _read(self) -> None:
        """One read: what the stream has (waiting for it if it has nothing yet), split into lines; and when they
        came, where none were waiting."""
        waiting = bool(self.lines)
        self._take()
        if not waiting:
            self.since = time.monotonic()

    def _take(self) -> None:
        if self.fd is None:
            lines = self.stream.readlines(READ_BYTES)
            if not lines:
                self.ended = True
            elif not lines[-1].endswith("\n"):
                self.unterminated = True
            # (The text layer's lines keep their "\n": the last one may have none.)
            self.lines.extend(line[:-1] if line.endswith("\n") else line for line in lines)
            return
        data = self._read1()
        if not data and not os.get_blocking(self.fd):
            # A descriptor left non-blocking by whoever started us: b"" (or None) may only mean nothing for now.
            # Once it is readable, another empty read is the end.
            select.select([self.fd], [], [])
            data = self._read1()
        if data is None:
            return
        text = self.tail + self.decoder.decode(data, final=not data)
        parts = text.split("\n")
        self.tail = parts.pop()
        self.lines.extend(parts)
        if not data:
            self.ended = True
            if self.tail:
                self.lines.append(self.tail)
                self.tail, self.unterminated = "", True

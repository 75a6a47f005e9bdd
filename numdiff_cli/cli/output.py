"""Everything a command hands its results to: blocks of rows, the writer, stderr, the progress display, the words.

Results go to stdout in the chosen format (:class:`Writer`); warnings and errors go to stderr (:func:`stderr`),
above the progress display when one is shown. This is the one place where an unreadable input line becomes the
rows it stands for (:func:`bad_lines`, for every command); a status code becomes a sentence in
:mod:`numdiff_cli.cli.words`. numpy, rich and the renderer are imported only when results are written,
so importing this module is as cheap as importing click.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from numdiff_cli import contract, deadline
from numdiff_cli.cli.terminal import Progress

if TYPE_CHECKING:
    import numpy as np

    from numdiff_cli.expr import Expression
    from numdiff_cli.points import Chunk

MAX_WARNINGS = 20


def point_of(expression: Expression, column: np.ndarray) -> Any:
    """The "at" of a row: a number for an expression of one plain variable, else ``{name: value}``."""
    if len(expression.names) == 1 and not expression.shapes:
        return float(column[0])
    return dict(zip(expression.names, column.tolist()))


def derivative_title(order: int, var: str, expr: str) -> str:
    """``d/dx EXPR`` or ``d^2/dx EXPR``: the title of a table of derivatives."""
    return f"d{'' if order == 1 else '^' + str(order)}/d{var} {expr}"


class PipeClosed(Exception):
    """The reader of stdout went away (``numdiff ... | head -1``). Not an OSError, so click leaves it to us."""


def echo(line: str) -> None:
    """One line of results on stdout, written at once (a closed pipe ends the run quietly)."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise PipeClosed from None


def stderr(message: str) -> None:
    """One line on stderr, above the progress display when one is shown."""
    if Progress.live_console is not None:
        # Printed above the progress display, which rich then redraws below it.
        Progress.live_console.print(message, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return
    click.echo(message, err=True)


@dataclass
class Block:
    """The results for one chunk of points.

    Rows are built only when the output format needs them: ``plain`` output of a million points must not pay
    for a million dicts. ``warnings`` lists exactly the rows that carry a warning, with the point they are
    about, so the exit status and the stderr messages never need the rows either.
    """

    count: int
    row: Callable[[int], dict[str, Any]]  # row i with the contract's keys (a "warning" key is added from warnings)
    plain: Callable[[], list[str]]
    warnings: dict[int, tuple[str, Any]]  # row index -> (message, point)
    bad: set[int] = field(default_factory=set)  # rows from unreadable input lines
    said: set[int] = field(default_factory=set)  # the first row of each unreadable line: its message is said there
    failed: dict[int, str] = field(default_factory=dict)  # rows of a check that failed -> why (with the numbers)
    fast: dict[str, Callable[[Block], list[str]]] = field(default_factory=dict)  # format -> its lines, vectorized

    @classmethod
    def of_rows(cls, rows: list[dict[str, Any]], plain: list[str]) -> Block:
        """A block from rows built eagerly (each with a "warning" key where needed)."""
        warnings = {index: (row["warning"], row.get("at")) for index, row in enumerate(rows) if "warning" in row}
        return cls(len(rows), lambda index: dict(rows[index]), lambda: plain, warnings)

    def full_row(self, index: int) -> dict[str, Any]:
        row = self.row(index)
        if index in self.warnings:
            row["warning"] = self.warnings[index][0]
        return row

    def rows(self) -> list[dict[str, Any]]:
        return [self.full_row(index) for index in range(self.count)]


def bad_lines(chunk: Chunk, block: Block, rows_of: Callable[[int], range]) -> Block:
    """The one place where an unreadable input line becomes rows: ``rows_of(point)`` are the rows of the chunk's
    point ``point``; each carries the line's message instead of a result, and the message is said once.
    """
    for point, message in chunk.problems.items():
        rows = rows_of(point)
        for row_index in rows:
            block.warnings[row_index] = (message, None)
            block.bad.add(row_index)
        block.said.add(rows[0])
    return block


def mark_bad(chunk: Chunk, block: Block, per_point: int = 1) -> Block:
    """:func:`bad_lines` where each point stands for ``per_point`` consecutive rows (``compare --method all``)."""
    return bad_lines(chunk, block, lambda point: range(point * per_point, (point + 1) * per_point))


def with_bad_lines(chunk: Chunk, rows: list[dict[str, Any]], plain: list[str], expr: str) -> Block:
    """The block of ``rows`` for the readable points of ``chunk``, then one row per unreadable line (:func:`bad_lines`).

    For points with a varying number of rows (``compare --sweep``: one per step), which cannot be mapped by position.
    """
    first = {point: len(rows) + index for index, point in enumerate(chunk.problems)}
    block = Block.of_rows(rows + [{"expr": expr} for _ in first], plain + ["nan"] * len(first))
    return bad_lines(chunk, block, lambda point: range(first[point], first[point] + 1))


class _Format:
    """How one output format writes blocks: ``lines`` of a block now, ``finish`` what is left at the end."""

    def __init__(self, keys: Sequence[str], title: str):
        self.keys = keys
        self.title = title

    def lines(self, block: Block) -> str:
        raise NotImplementedError

    def finish(self) -> None:
        """Write what is held back until all rows are known (only a table holds anything back)."""


class _Plain(_Format):
    def lines(self, block: Block) -> str:
        return "\n".join(block.plain())


class _Json(_Format):
    def lines(self, block: Block) -> str:
        from numdiff_cli.render import json_line

        if "json" in block.fast:
            return "\n".join(block.fast["json"](block))
        return "\n".join(json_line(row) for row in block.rows())


class _Csv(_Format):
    header = True

    def lines(self, block: Block) -> str:
        from numdiff_cli.render import csv_lines

        lines = block.fast["csv"](block) if "csv" in block.fast else [csv_lines(block.rows(), self.keys, False)]
        if self.header:
            lines.insert(0, csv_lines([], self.keys, True))
            self.header = False
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n")


STREAM_AFTER = 500  # rows: a table of more is printed as it comes, in aligned columns
# Columns that are the same on every row by construction: shown once above a streamed table, not on each line.
_COMMAND_CONSTANTS = ("expr", "var", "vars", "order", "method", "dtype", "analytic_expr", "start", "lr")


def terminal_width() -> int | None:
    """The width a table must fit: the terminal's, or ``COLUMNS`` when set; None for a pipe or file without it."""
    import shutil

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


class _Table(_Format):
    """A rich table of every row, fitted to the terminal; past :data:`STREAM_AFTER` rows, aligned lines as they come.

    A table needs all its rows before its first line (column widths), which on a long stream means a long wait and
    every row in memory; so after :data:`STREAM_AFTER` rows it switches, with a note on stderr, to columns whose
    widths are taken from the rows so far (and grow if needed), written chunk by chunk and then forgotten.
    """

    def __init__(self, keys: Sequence[str], title: str):
        super().__init__(keys, title)
        self.rows: list[dict[str, Any]] = []
        self.columns: list[str] | None = None  # set once streaming
        self.widths: dict[str, int] = {}

    def lines(self, block: Block) -> str:
        from numdiff_cli.render import stream_line

        if self.columns is None:
            self.rows.extend(block.rows())
            return self.start_streaming() if len(self.rows) > STREAM_AFTER else ""
        return "\n".join(stream_line(row, self.columns, self.widths) for row in block.rows())

    def start_streaming(self) -> str:
        from numdiff_cli.render import _table_cell, fit_columns, stream_header, stream_line

        rows, self.rows = self.rows, []
        constant = [
            key
            for key in _COMMAND_CONSTANTS
            if key in self.keys and len({_table_cell(row.get(key)) for row in rows}) == 1
        ]
        columns = [key for key in (*self.keys, "warning") if key not in constant]
        widths = {key: max([len(key)] + [len(_table_cell(row.get(key))) for row in rows]) for key in columns}
        widths["warning"] = len("warning")
        kept, dropped = fit_columns({k: v for k, v in widths.items() if k != "warning"}, terminal_width(), 2)
        self.columns, self.widths = [*kept, "warning"], widths
        stderr(
            f"Note: more than {STREAM_AFTER} rows: printing them as they come, in columns (a table needs every row"
            " first); --format plain, json or csv for scripts"
        )
        caption = "  ".join(f"{key}: {_table_cell(rows[0].get(key))}" for key in constant if key != "expr")
        head = [self.title] + ([caption] if caption else [])
        if dropped:
            head.append(f"not shown (terminal too narrow): {', '.join(dropped)}")
        head.append(stream_header(self.columns, self.widths))
        return "\n".join(head + [stream_line(row, self.columns, self.widths) for row in rows])

    def finish(self) -> None:
        from rich.console import Console

        from numdiff_cli.render import table

        if self.columns is not None:
            return
        try:
            width = terminal_width()
            console = Console(file=sys.stdout, highlight=False)
            rendered = table(self.rows, self.keys, self.title, width)
            if width is None:
                # No terminal: never truncate digits, however wide.
                needed = console.measure(rendered, options=console.options.update_width(100_000)).maximum
                console.width = max(console.width, needed)
            else:
                console.width = width
            console.print(rendered)
        except BrokenPipeError:
            raise PipeClosed from None


# Each output format of contract.FORMATS ("auto" chooses one of these), by the class that writes it.
FORMAT_WRITERS: dict[str, type[_Format]] = {"plain": _Plain, "json": _Json, "csv": _Csv, "table": _Table}


# The numbers a warning line quotes from its row, when the row has them.
_QUOTED = ("derivative", "value", "gradient", "numeric", "analytic", "abs_error", "error", "h")


class Writer:
    """Writes blocks of rows in the chosen format, says what is wrong on stderr and works out the exit status.

    The status follows the README's table: 2 for an unreadable input line, 1 for a failed check, 3
    (:data:`contract.EXIT_UNVOUCHED`) for a result with a warning, unless the rows are checks (``check=True``):
    then the checks decide and a warning counts only with ``strict=True``.
    """

    def __init__(
        self,
        fmt: str,
        keys: Sequence[str],
        title: str,
        *,
        expr: str | None = None,
        method: str | None = None,
        check: bool = False,
        strict: bool = False,
    ):
        if fmt == "auto":
            fmt = "table" if sys.stdout.isatty() else "plain"
        self.format = FORMAT_WRITERS[fmt](keys, title)
        self.expr = expr
        self.method = method
        self.check = check
        self.strict = strict
        self.warnings = 0
        self.bad = self.failed = self.warned = False
        self.said: set[str] = set()

    def write(self, block: Block) -> None:
        for index in sorted(set(block.warnings) | set(block.failed)):
            if index in block.failed:
                self.failed = True
                self.say(None if self.full else f"FAIL: {self.context(block, index)}: {block.failed[index]}")
            if index not in block.warnings:
                continue
            message = block.warnings[index][0]
            if index in block.bad:
                # Said once for the line, however many rows it stands for (see bad_lines).
                self.bad = True
                if index in block.said:
                    self.say(f"Error: {message}")
            else:
                self.warned = True
                numbers = "" if self.full else self.numbers(block, index)
                self.say(None if self.full else f"Warning: {self.context(block, index)}: {message}{numbers}")
        text = self.format.lines(block)
        if text:
            try:
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
            except BrokenPipeError:
                raise PipeClosed from None

    def context(self, block: Block, index: int) -> str:
        """``EXPR at POINT, method M``: what a warning or a failure is about."""
        from numdiff_cli.render import describe

        row = block.row(index)
        at = block.warnings[index][1] if index in block.warnings else row.get("at")
        parts = [self.expr or row.get("expr") or "", f"at {describe(at)}"]
        method = row.get("method", self.method)
        text = " ".join(part for part in parts if part)
        return text + (f", method {method}" if method else "")

    def numbers(self, block: Block, index: int) -> str:
        """`` (numeric 0.54, analytic 0.54, ...)``: the numbers of the row a warning is about."""
        from numdiff_cli.render import quoted

        row = block.row(index)
        quoted_numbers = [f"{key} {quoted(row[key])}" for key in _QUOTED if row.get(key) is not None]
        return f" ({', '.join(quoted_numbers)})" if quoted_numbers else ""

    @property
    def full(self) -> bool:
        """Past the cap a line is only counted, never built (its row would be: not for a million flagged points)."""
        return self.warnings >= MAX_WARNINGS

    def say(self, line: str | None) -> None:
        """One line on stderr: at most :data:`MAX_WARNINGS` of them, never the same line twice (None: past the cap)."""
        if line is None or self.full:
            self.warnings += 1
        elif line not in self.said:
            self.warnings += 1
            self.said.add(line)
            stderr(line)

    @property
    def status(self) -> int:
        if self.bad:
            return contract.EXIT_USAGE
        if self.failed:
            return contract.EXIT_FAILED
        if self.warned and (self.strict or not self.check):
            return contract.EXIT_UNVOUCHED
        return contract.EXIT_OK

    def close(self) -> int:
        if self.warnings > MAX_WARNINGS:
            stderr(f"Warning: {self.warnings - MAX_WARNINGS} more warnings not shown")
        self.format.finish()
        return self.status


_FEWER_POINTS = "; give fewer points or variables, or a simpler expression"


def run(
    chunks: Iterator[Chunk],
    compute: Callable[[Chunk], Block],
    fmt: str,
    keys: Sequence[str],
    title: str,
    **context: Any,
) -> None:
    """Write ``compute(chunk)`` for every chunk; exit with the writer's status (see :class:`Writer`).

    ``context`` goes to the :class:`Writer`: ``expr`` and ``method`` for the warnings, ``check``/``strict``;
    ``total`` is the number of points when it is known (``--at``, ``--range``): the progress display then shows
    a percentage and the time left.
    """
    total = context.pop("total", None)
    writer = Writer(fmt, keys, title, **context)
    progress = Progress(total)
    try:
        done = 0
        for chunk in chunks:
            count = chunk.values.shape[1]
            what = f"the numerical work on {count} point{'s' * (count != 1)} from point {done + 1}"
            block = deadline.within(lambda: compute(chunk), what, hint=_FEWER_POINTS)  # noqa: B023 (called here)
            writer.write(block)
            progress.advance(count)
            done += count
    finally:
        progress.stop()
    status = writer.close()
    if status:
        raise click.exceptions.Exit(status)

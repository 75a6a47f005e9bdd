"""Results -> plain / JSON Lines / CSV strings, or a rich Table. Returns, never prints.

A result row is a ``dict`` whose keys are the JSON keys of the contract, in order; a ``"warning"`` key is
present only when something is wrong with that row.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text


def clean(value: Any, infinite: bool = False) -> Any:
    """Floats as Python floats, non-finite ones as None (JSON null; with ``infinite``, only nan); lists and dicts
    recursively."""
    if isinstance(value, dict):
        return {key: clean(item, infinite) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(item, infinite) for item in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return clean(value.tolist(), infinite)
    if isinstance(value, float):
        return value if math.isfinite(value) or (infinite and math.isinf(value)) else None
    return value


def number(value: Any) -> str:
    """Shortest round-trip form (``repr(float)``); ``nan`` for a missing value."""
    if value is None:
        return "nan"
    return repr(float(value))


# A message names at most this many values of a point or a list (a 784x10 weight matrix is 7,840): the first ones,
# then how many there are. The rows themselves (stdout) always carry every value.
SHOWN_VALUES = 6


def _elided(parts: list[str], total: int) -> str:
    return ",".join(parts) + (f",... ({total} values)" if total > len(parts) else "")


def describe(at: Any) -> str:
    """A point in a message: ``2.0`` or ``x=1.0,y=2.0`` (``nan`` for a missing value); past :data:`SHOWN_VALUES`
    coordinates, the first ones and their count."""
    at = clean(at)
    if isinstance(at, dict):
        shown = list(at.items())[:SHOWN_VALUES]
        return _elided([f"{name}={number(value)}" for name, value in shown], len(at))
    return number(at)


def _leaves(value: Any) -> list[Any]:
    return [leaf for item in value for leaf in _leaves(item)] if isinstance(value, list) else [value]


def quoted(value: Any) -> str:
    """A number in a warning: 6 significant digits (``nan`` if missing, ``inf`` as the plain output prints an
    overflow); lists and points element by element, past :data:`SHOWN_VALUES` elements the first ones and their
    count.

    Examples
    --------
    >>> quoted([[1.0, 2.0], [3.0, 4.0]])
    '[[1, 2], [3, 4]]'
    >>> quoted(list(range(10)))
    '[0, 1, 2, 3, 4, 5, ... (10 values)]'
    >>> quoted([float("inf"), float("nan"), -float("inf")])
    '[inf, nan, -inf]'
    """
    value = clean(value, infinite=True)
    if isinstance(value, dict):
        shown = list(value.items())[:SHOWN_VALUES]
        return _elided([f"{name}={quoted(item)}" for name, item in shown], len(value))
    if isinstance(value, list):
        leaves = _leaves(value)
        if len(leaves) > SHOWN_VALUES:
            return "[" + ", ".join(quoted(item) for item in leaves[:SHOWN_VALUES]) + f", ... ({len(leaves)} values)]"
        return "[" + ", ".join(quoted(item) for item in value) + "]"
    if value is None:
        return "nan"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.6g}"


def short(value: float) -> str:
    """A number for an equation: 15 significant digits, so ``0.19999999999999998`` reads ``0.2``."""
    return repr(float(f"{value:.15g}")) if math.isfinite(value) else "nan"


def json_line(row: dict[str, Any]) -> str:
    return json.dumps(clean(row), allow_nan=False, separators=(", ", ": "))


def _cell(value: Any) -> str:
    value = clean(value)
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_lines(rows: Sequence[dict[str, Any]], keys: Sequence[str], header: bool) -> str:
    """CSV text for ``rows``: the ``keys`` columns plus ``warning``; lists and objects as compact JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = list(keys) + ["warning"]
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in columns])
    return buffer.getvalue()


# Columns given up first when a table is wider than the terminal: the ones a reader can best do without.
DROP_ORDER = (
    "analytic_expr",
    "rel_error",
    "h",
    "error",
    "dtype",
    "order",
    "var",
    "vars",
    "method",
    "bound",
    "intercept",
    "start",
    "lr",
    "steps",
    "gradient_norm",
    "analytic",
)


FOLDED = 24  # the narrowest a text column is folded to before columns are dropped


def table_columns(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> tuple[list[str], str]:
    """The columns of a table of ``rows`` and its caption (the values common to every row)."""
    shown = [key for key in keys if key != "expr"]
    if any("warning" in row for row in rows):
        shown.append("warning")
    constant = [key for key in shown if len(rows) > 1 and len({_table_cell(row.get(key)) for row in rows}) == 1]
    constant = [key for key in constant if key not in ("at", "warning")]
    shown = [key for key in shown if key not in constant]
    caption = "  ".join(f"{key}: {_table_cell(rows[0].get(key))}" for key in constant) if rows else ""
    return shown, caption


def fit_columns(widths: dict[str, int], width: int | None, per_column: int = 3) -> tuple[list[str], list[str]]:
    """Columns that fit in ``width`` characters (each costs its text + ``per_column``), dropping by DROP_ORDER.

    Returns (kept, dropped); with ``width=None`` every column is kept.
    """
    kept = list(widths)
    dropped: list[str] = []
    if width is None:
        return kept, dropped
    for key in DROP_ORDER:
        if sum(widths[k] + per_column for k in kept) + 1 <= width:
            break
        if key in kept and len(kept) > 2:
            kept.remove(key)
            dropped.append(key)
    return kept, dropped


def table(rows: Sequence[dict[str, Any]], keys: Sequence[str], title: str, width: int | None = None) -> Table | Text:
    """A rich Table of ``rows``; user text is never interpreted as markup.

    Columns whose value is the same on every row (the expression, the variable, the method...) are shown once in
    the caption instead, so the numbers get the width. Without ``width`` number columns never shrink below their
    longest value. With ``width`` (the terminal's) the table fits in it: the columns of :data:`DROP_ORDER` are left
    out first (the caption names them); on a terminal too narrow even then, each row becomes a record of
    ``name  value`` lines (:func:`records`), so that no number is cut or broken across lines.
    """
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    shown, caption = table_columns(rows, keys)
    cells = [[escape(_table_cell(row.get(key))) for key in shown] for row in rows]
    widths = {key: max([len(key)] + [len(cell[index]) for cell in cells]) for index, key in enumerate(shown)}
    numeric = {key: all(_is_number(row.get(key)) for row in rows) for key in shown}
    # Text (a warning, a matrix) folds onto several lines; numbers never do: they need their whole width.
    widths = {key: width_ if numeric[key] else min(width_, max(len(key), FOLDED)) for key, width_ in widths.items()}
    kept, dropped = fit_columns(widths, width)
    if dropped:
        note = f"not shown (terminal too narrow): {', '.join(dropped)}; all columns: --format json or csv"
        caption = f"{caption}\n{note}" if caption else note
        cells = [[cell[shown.index(key)] for key in kept] for cell in cells]
    fits = width is None or sum(widths[key] + 3 for key in kept) + 1 <= width
    if not fits:
        return Text(records(rows, keys, title))
    result = Table(title=escape(title), title_justify="left", caption=escape(caption) or None, caption_justify="left")
    for key in kept:
        result.add_column(
            key,
            justify="right" if numeric[key] else "left",
            min_width=widths[key] if numeric[key] else None,
            no_wrap=numeric[key],
            overflow="fold",
        )
    for cell in cells:
        result.add_row(*cell)
    return result


def records(rows: Sequence[dict[str, Any]], keys: Sequence[str], title: str) -> str:
    """Rows as records, one ``name  value`` line per column and a blank line between rows: for a narrow terminal."""
    shown, caption = table_columns(rows, keys)
    pad = max(len(key) for key in shown) if shown else 0
    blocks = [title + ("\n" + caption.replace("  ", "\n") if caption else "")]  # one common value a line
    for row in rows:
        blocks.append("\n".join(f"{key.ljust(pad)}  {_table_cell(row.get(key))}" for key in shown if key in row))
    return "\n\n".join(blocks)


def stream_header(columns: Sequence[str], widths: dict[str, int]) -> str:
    """The header line of the streaming layout: column names, aligned as :func:`stream_line` aligns values."""
    return "  ".join(key.rjust(widths[key]) if key != "warning" else key for key in columns).rstrip()


def stream_line(row: dict[str, Any], columns: Sequence[str], widths: dict[str, int]) -> str:
    """One row of the streaming layout: cells right-aligned to ``widths`` (which grow when a cell is wider)."""
    cells = []
    for key in columns:
        cell = _table_cell(row.get(key)) if key in row or key != "warning" else ""
        widths[key] = max(widths[key], len(cell))
        cells.append(cell if key == "warning" else cell.rjust(widths[key]))
    return "  ".join(cells).rstrip()


def _is_number(value: Any) -> bool:
    return value is None or isinstance(value, (int, float)) or hasattr(value, "dtype")


def _table_cell(value: Any) -> str:
    value = clean(value)
    if value is None:
        return "-"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={_table_cell(item)}" for key, item in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_table_cell(item) for item in value) + "]"
    return str(value)

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


def clean(value: Any) -> Any:
    """Floats as Python floats, non-finite ones as None (JSON null); lists and dicts recursively."""
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(item) for item in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return clean(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def number(value: Any) -> str:
    """Shortest round-trip form (``repr(float)``); ``nan`` for a missing value."""
    if value is None:
        return "nan"
    return repr(float(value))


def describe(at: Any) -> str:
    """A point in a message: ``2.0`` or ``x=1.0,y=2.0`` (``nan`` for a missing value)."""
    at = clean(at)
    if isinstance(at, dict):
        return ",".join(f"{name}={number(value)}" for name, value in at.items())
    return number(at)


def quoted(value: Any) -> str:
    """A number in a warning: 6 significant digits (``nan`` if missing); lists and points element by element."""
    value = clean(value)
    if isinstance(value, dict):
        return ",".join(f"{name}={quoted(item)}" for name, item in value.items())
    if isinstance(value, list):
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


def table(rows: Sequence[dict[str, Any]], keys: Sequence[str], title: str) -> Table:
    """A rich Table of ``rows``; user text is never interpreted as markup.

    Columns whose value is the same on every row (the expression, the variable, the method...) are shown once in
    the caption instead, so the numbers get the width. Number columns never shrink below their longest value.
    """
    from rich.markup import escape
    from rich.table import Table

    shown = [key for key in keys if key != "expr"]
    if any("warning" in row for row in rows):
        shown.append("warning")
    constant = [key for key in shown if len(rows) > 1 and len({_table_cell(row.get(key)) for row in rows}) == 1]
    constant = [key for key in constant if key not in ("at", "warning")]
    shown = [key for key in shown if key not in constant]
    caption = "  ".join(f"{key}: {_table_cell(rows[0].get(key))}" for key in constant) if rows else ""
    cells = [[escape(_table_cell(row.get(key))) for key in shown] for row in rows]
    result = Table(title=escape(title), title_justify="left", caption=escape(caption) or None, caption_justify="left")
    for index, key in enumerate(shown):
        width = max([len(key)] + [len(cell[index]) for cell in cells])
        numeric = all(_is_number(row.get(key)) for row in rows)
        result.add_column(key, justify="right" if numeric else "left", min_width=width, no_wrap=numeric)
    for cell in cells:
        result.add_row(*cell)
    return result


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

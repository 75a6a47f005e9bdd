"""--at / --range / standard input -> arrays of points, streamed in chunks.

A point for an expression with ``m`` variables is a column of ``m`` floats; a chunk is an array of shape
``(m, k)``. Unreadable stdin lines do not stop the stream: they become NaN columns with a message, so that
every input line gives exactly one output row.
"""

from __future__ import annotations

import ast
import functools
import io
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from numdiff_cli.codegen import recursion_limit
from numdiff_cli.errors import NumdiffError, PointError
from numdiff_cli.functions import CONSTANTS, FUNCTIONS
from numdiff_cli.stdin_lines import LineReader

CHUNK = 65_536
MAX_POINT_TEXT = 100_000
# Nesting of a JSON point such as [[1,2],[3,4]]; Python's json module would recurse without bound.
MAX_LIST_DEPTH = 32
SEPARATORS = re.compile(r"[,\s]+")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# A plain decimal number in ASCII. Python's float() also takes '1_000', digits of other scripts (U+0661) and
# non-ASCII spaces; those are refused here, as in expressions.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.IGNORECASE | re.ASCII)


@dataclass
class Chunk:
    """Points ``values`` (shape ``(m, k)``) and, for stdin, line numbers and per-column problems."""

    values: np.ndarray
    lines: list[int] | None = None
    problems: dict[int, str] = field(default_factory=dict)  # column -> message


def read_number(text: str, where: str) -> float:
    """A finite float from a number or a constant expression such as ``pi/4``."""
    text = text.strip()
    if _DECIMAL.fullmatch(text):
        value = float(text)
    else:
        for char in text:
            if not (char.isascii() and char.isprintable()):
                raise PointError(f"{where}: character {char!r} (U+{ord(char):04X}) is not allowed; use ASCII")
        constant = _constant(text)
        if constant is None:
            raise PointError(f"{where}: cannot read {_shown(text)} as a number") from None
        value = constant
    if not math.isfinite(value):
        raise PointError(f"{where}: {_shown(text)} is not a finite number")
    return value


@functools.lru_cache(maxsize=1024)
def _constant(text: str) -> float | None:
    """The value of a constant expression (``pi/4``), None if it is not one. Cached: a stream with many
    copies of the same unreadable line parses it once."""
    if any(name not in CONSTANTS and name not in FUNCTIONS for name in _IDENTIFIER.findall(text)):
        return None  # a variable or a word: not a constant, and no need to parse it to know (fast on bad input)
    value = float_constant(text)
    if value is not None:
        return value
    # Imported here: a plain number must not pay for sympy (a cached expression never imports it).
    from numdiff_cli.expr import evaluate_constant

    try:
        return evaluate_constant(text)
    except NumdiffError:
        return None


_FLOAT_OPERATORS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
# Python builds the tree of a sum of n terms n levels deep: a limit that lets long constant lines through, while
# bounding the depth (and so the stack) of what is parsed.
_FLOAT_RECURSION = 10_000
# A bound on the work of one walk; a point's text (at most MAX_POINT_TEXT characters) stays well under it.
_MAX_FLOAT_NODES = 200_000


def float_constant(text: str) -> float | None:
    """A constant expression (``(1/3)**(1/2) + pi``) evaluated in floats by a walk of its syntax tree.

    Numbers, ``+ - * / ** ^``, the constants and the functions of the language, nothing else. None when the text
    is anything more, or when a step is not a finite real number (overflow, a domain error, a complex power):
    the parser then reads it (sympy, exact where floats are not) and gives the precise message. A stream of long
    constant lines thus costs a walk per line, not a sympy expression per line.
    """
    try:
        with recursion_limit(_FLOAT_RECURSION):
            tree = ast.parse(text.replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    nodes = list(ast.walk(tree.body))
    if len(nodes) > _MAX_FLOAT_NODES:
        return None
    values: dict[ast.AST, float] = {}
    called = {node.func for node in nodes if isinstance(node, ast.Call)}
    try:
        # Reversed breadth-first order: every node after its children, without recursion.
        for node in reversed(nodes):
            if node in called or isinstance(node, (ast.Load, ast.operator, ast.unaryop)):
                continue  # a function's name, an operator: no value of their own
            values[node] = _float_node(node, values)
    except (_NotFloat, OverflowError, ValueError, ZeroDivisionError, TypeError):
        return None
    value = values[tree.body]
    return value if math.isfinite(value) else None


class _NotFloat(Exception):
    pass


def _float_node(node: ast.AST, values: dict[ast.AST, float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _FLOAT_OPERATORS:
        result = _FLOAT_OPERATORS[type(node.op)](values[node.left], values[node.right])
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        result = -values[node.operand] if isinstance(node.op, ast.USub) else values[node.operand]
    elif isinstance(node, ast.Name) and node.id in CONSTANTS:
        result = CONSTANTS[node.id].value
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and not node.keywords
        and len(node.args) in FUNCTIONS[node.func.id].arities
    ):
        result = FUNCTIONS[node.func.id].floats(*(values[arg] for arg in node.args))
    else:
        raise _NotFloat
    if not isinstance(result, float) or not math.isfinite(result):
        raise _NotFloat  # complex (a negative base to a fractional power), inf or nan: the parser decides
    return result


def shown_text(text: str) -> str:
    """A point's text as messages show it (quoted, shortened)."""
    return _shown(text)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or brackets (``log(2,10),3`` -> two parts)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def parse_point(
    text: str, names: tuple[str, ...], shapes: dict[str, tuple[int, ...]], option: str = "--at"
) -> np.ndarray:
    """One ``--at`` value (or that of ``option``) -> a column of ``len(names)`` floats.

    Accepts ``2``, ``pi/4``, ``x=1,y=2`` (any order), ``1,2`` (variable order), and nested lists
    ``[[1,2],[3,4]]`` for the components of an indexed variable.
    """
    where = f"{option} {_shown(text)}"
    if len(text) > MAX_POINT_TEXT:
        raise PointError(f"{option}: point text longer than {MAX_POINT_TEXT} characters")
    stripped = text.strip()
    if not stripped:
        raise PointError(f"{option}: empty point")
    if stripped.startswith("["):
        return _parse_nested(stripped, names, shapes, where)
    parts = split_top_level(stripped)
    if any("=" in part for part in parts):
        return _parse_named(parts, names, shapes, where)
    if len(parts) == 1 and len(names) > 1:
        parts = SEPARATORS.split(stripped)
    if len(parts) != max(1, len(names)):
        raise PointError(f"{where}: expected {_count(names)}, got {len(parts)}")
    return np.array([read_number(part, where) for part in parts], dtype=float)[: max(1, len(names))]


def _count(names: tuple[str, ...]) -> str:
    if len(names) <= 1:
        return "1 value"
    return f"{len(names)} values ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''})"


def _parse_named(
    parts: list[str], names: tuple[str, ...], shapes: dict[str, tuple[int, ...]], where: str
) -> np.ndarray:
    values: dict[str, float] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        name = name.strip().replace(" ", "")
        if not sep:
            raise PointError(f"{where}: mix of 'name=value' and plain values")
        if name in shapes and name not in names:
            # x=[3,4]: all the components of an array variable at once.
            array = read_array(value, where)
            if array.shape != shapes[name]:
                wanted, got = (str(shape).replace(" ", "") for shape in (shapes[name], array.shape))
                raise PointError(f"{where}: {name} has shape {wanted}, got {got if array.shape else 'a number'}")
            for component, number in zip(_components(name, shapes[name]), array.reshape(-1).tolist()):
                if component in values:
                    raise PointError(f"{where}: {component!r} is given twice")
                values[component] = number
            continue
        if name not in names:
            known = ", ".join(names[:6]) or "none"
            raise PointError(f"{where}: unknown variable {name!r} (variables: {known})")
        if name in values:
            raise PointError(f"{where}: {name!r} is given twice")
        values[name] = read_number(value, where)
    missing = [name for name in names if name not in values]
    if missing:
        raise PointError(f"{where}: no value for {', '.join(missing[:6])}")
    return np.array([values[name] for name in names], dtype=float)


def _components(name: str, shape: tuple[int, ...]) -> list[str]:
    return [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]


def read_array(text: str, where: str) -> np.ndarray:
    """A number (``2``, ``pi/4``) or a list of numbers (``[3,4]``, ``[[1,2],[3,4]]``) as a float array."""
    text = text.strip()
    if not text.startswith("["):
        return np.array(read_number(text, where))
    depth = 0
    for char in text:
        depth += (char == "[") - (char == "]")
        if depth > MAX_LIST_DEPTH:
            raise PointError(f"{where}: lists nested deeper than {MAX_LIST_DEPTH} levels")
    try:
        data = json.loads(text)
        if not _all_numbers(data):
            raise ValueError(text)
        array = np.array(data, dtype=float)
    except (ValueError, TypeError):
        raise PointError(f"{where}: cannot read it as a list of numbers, e.g. [[1,2],[3,4]]") from None
    if not np.all(np.isfinite(array)):
        raise PointError(f"{where}: the values must be finite numbers")
    return array


def _parse_nested(text: str, names: tuple[str, ...], shapes: dict[str, tuple[int, ...]], where: str) -> np.ndarray:
    array = read_array(text, where)
    if len(shapes) == 1 and len(names) == math.prod(next(iter(shapes.values()))):
        ((base, shape),) = shapes.items()
        if array.ndim > 1 and array.shape != shape:
            wanted = "x".join(map(str, shape))
            raise PointError(f"{where}: expected a {wanted} array for {base}, got {'x'.join(map(str, array.shape))}")
    if array.size != max(1, len(names)):
        raise PointError(f"{where}: expected {_count(names)}, got {array.size}")
    return array.reshape(-1)


def _all_numbers(data: object) -> bool:
    """True if ``data`` is a number or nested lists of numbers (JSON strings and booleans are not numbers)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            return False
    return True


def parse_range(text: str) -> tuple[float, float, int]:
    """``START:STOP:NUM`` -> (start, stop, num); START and STOP may be constant expressions."""
    parts = text.split(":")
    if len(parts) != 3:
        raise PointError(f"--range {_shown(text)}: expected START:STOP:NUM, e.g. 0:1:11")
    start = read_number(parts[0], "--range START")
    stop = read_number(parts[1], "--range STOP")
    try:
        num = int(parts[2])
    except ValueError:
        raise PointError(f"--range {_shown(text)}: NUM must be a whole number") from None
    if num < 1:
        raise PointError(f"--range {_shown(text)}: NUM must be at least 1")
    return start, stop, num


def range_chunks(start: float, stop: float, num: int, size: int = CHUNK) -> Iterator[Chunk]:
    """Evenly spaced points, both ends included, exactly as ``numpy.linspace`` computes them."""
    step = (stop - start) / (num - 1) if num > 1 else 0.0
    for begin in range(0, num, size):
        index = np.arange(begin, min(num, begin + size), dtype=float)
        if math.isfinite(step):
            values = start + index * step
        else:
            # -1e308:1e308 overflows the step; weights of the two ends do not.
            weight = index / (num - 1)
            values = start * (1 - weight) + stop * weight
        if begin + len(index) == num and num > 1:
            values[-1] = stop
        yield Chunk(values[None, :])


def stdin_chunks(stream: IO[str] | LineReader, width: int, size: int = CHUNK, first_line: int = 1) -> Iterator[Chunk]:
    """Points from a text stream, one per line, values separated by commas and/or whitespace: chunks of ``size``
    lines while the input keeps coming, and of what has come whenever it pauses (see :mod:`.stdin_lines`)."""
    if size <= 0:
        return
    reader = stream if isinstance(stream, LineReader) else LineReader(stream)
    number = first_line
    for block in reader.batches(size):
        yield _parse_lines(block, width, number)
        number += len(block)


def _parse_lines(lines: list[str], width: int, first: int) -> Chunk:
    count = len(lines)
    width = max(1, width)
    values = np.full((width, count), np.nan)
    problems: dict[int, str] = {}
    # Fast path: numpy converts the whole block at once. Any line it cannot take (or a non-finite value) sends
    # the block through the per-line path below, which names each bad line. numpy's float() would also take
    # '1_000' and non-ASCII digits, which points refuse: such blocks take the per-line path too.
    block = "".join(lines)
    try:
        if not block.isascii() or "_" in block:
            raise ValueError("not plain ASCII numbers")
        if width == 1:
            parsed = np.array(lines, dtype=float)[None, :]
        else:
            rows = [line.replace(",", " ").split() for line in lines]
            if any(len(row) != width for row in rows):
                raise ValueError("ragged")
            parsed = np.array(rows, dtype=float).T.reshape(width, count)
        if np.all(np.isfinite(parsed)):
            return Chunk(parsed, list(range(first, first + count)))
    except ValueError:
        pass
    for column, line in enumerate(lines):
        text = line.strip()
        where = f"line {first + column}"
        if not text:
            problems[column] = f"{where}: empty line"
            continue
        parts = [p for p in SEPARATORS.split(text) if p] if width > 1 else [text]
        if len(parts) != width:
            problems[column] = f"{where}: expected {width} values, got {len(parts)}"
            continue
        try:
            values[:, column] = [read_number(part, where) for part in parts]
        except PointError as error:
            problems[column] = str(error)
    return Chunk(values, list(range(first, first + count)), problems)


def point_chunks(
    at: Iterable[str],
    range_text: str | None,
    names: tuple[str, ...],
    shapes: dict[str, tuple[int, ...]],
    stdin: IO[str] | None,
    size: int = CHUNK,
) -> Iterator[Chunk]:
    """All points in order: each ``--at`` (``-`` reads standard input), then ``--range``; standard input and the
    range in chunks of ``size`` points.

    Every ``--at`` value and the range are checked before the first point is yielded, so a typo in a later
    option fails before any output is written.
    """
    groups: list[np.ndarray | None] = []  # None stands for standard input
    for text in at:
        groups.append(None if text.strip() == "-" else parse_point(text, names, shapes))
    reads_stdin = any(group is None for group in groups)
    if reads_stdin and (stdin is None or stdin.closed):
        raise PointError("--at -: standard input is closed; give the points with --at or --range")
    bounds = None
    if range_text is not None:
        if len(names) > 1:
            raise PointError("--range works for expressions of one variable; use --at for several")
        bounds = parse_range(range_text)
    return _chain(groups, bounds, len(names), stdin if stdin is not None else io.StringIO(), size)


def _chain(
    groups: list[np.ndarray | None],
    bounds: tuple[float, float, int] | None,
    width: int,
    stdin: IO[str] | LineReader,
    size: int,
) -> Iterator[Chunk]:
    pending: list[np.ndarray] = []
    for group in groups:
        if group is None:
            if pending:
                yield Chunk(np.stack(pending, axis=1))
                pending = []
            yield from stdin_chunks(stdin, width, size)
        else:
            pending.append(group)
    if pending:
        yield Chunk(np.stack(pending, axis=1))
    if bounds is not None:
        yield from range_chunks(*bounds, size=size)

"""What a command reads: the expression, its points, and the checks of options against the expression.

Every check raises :class:`~numdiff_cli.errors.OptionError` with a sentence that names the options to change;
the method checks take their sentences from :func:`numdiff_cli.contract.method_refusal`. The parser, the
compiler and numpy are imported only when an expression is read.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from numdiff_cli.contract import method_refusal
from numdiff_cli.errors import OptionError

# Derivatives of order 2 to 4 read their points in chunks this many times smaller: where auto cannot vouch for
# a result, its fine pass and its second opinion on circles cost several hundred evaluations per point.
HIGHER_ORDER_CHUNK_DIVISOR = 4

if TYPE_CHECKING:
    import numpy as np

    from numdiff_cli.expr import Expression
    from numdiff_cli.points import Chunk


def expression(text: str, var_order: tuple[str, ...] | None, no_cache: bool = False) -> Expression:
    """The parsed expression, compiled to numpy code; from the per-user cache when possible (no sympy then)."""
    from numdiff_cli import cache
    from numdiff_cli.compiled import compile_text

    parsed: Any = compile_text(text, cache.enabled(no_cache))
    from numdiff_cli.cli.output import stderr
    from numdiff_cli.typos import glued_notes

    for note in glued_notes(parsed.names):  # sinx: still a variable, but probably meant sin(x)
        stderr(note)
    if var_order is not None:
        parsed = parsed.reordered(var_order)
    return parsed


def bind(
    expression: Any, at: Sequence[str], lets: Sequence[str] = (), scalar: bool = True, option: str = "--at"
) -> Any:
    """An expression with array values bound to the shapes its first point gives and to the ``--let`` values
    (:func:`numdiff_cli.bound.bind`); other expressions are returned as they are. ``scalar``: refuse an
    expression whose value is an array (``x**2`` of a vector); ``option``: the option of the points, named by
    the errors."""
    if not getattr(expression, "arrays", False):
        if lets:
            raise OptionError("--let holds variables of an expression with array values (sum, @, slices, ...)")
        return expression
    from numdiff_cli.arraypoints import named_arrays, point_shapes
    from numdiff_cli.bound import bind as bind_shapes

    fixed: dict[str, Any] = {}
    for text in lets:
        for name, value in named_arrays(text, f"--let {text!r}").items():
            if name in fixed:
                raise OptionError(f"--let: {name} is given twice")
            fixed[name] = value
    free = tuple(name for name in expression.names if name not in fixed)
    if expression.names and not free:
        shown = ", ".join(expression.names[:6])
        raise OptionError(
            f"--let gives every variable of {expression.text!r} ({shown}): no variables are left to differentiate by;"
            " give the variables to differentiate by with --at instead"
        )
    first = at[0] if at else None
    stdin_line = _peek_stdin() if first and first.strip() == "-" else None
    shapes = point_shapes(first, free, stdin_line, option) if first else {}
    bound = bind_shapes(expression, shapes, fixed)
    if scalar and bound.value_shape:
        shape = str(bound.value_shape).replace(" ", "")
        raise OptionError(
            f"{expression.text!r} has a value of shape {shape}; this needs one number: take sum(...) of it, "
            "or use jacobian"
        )
    return bound


def coordinates(expression: Any, name: str) -> list[int]:
    """The indices among the variables of ``name``: a variable, one component ``x[1]``, or all the components of
    an array variable ``x``."""
    if hasattr(expression, "coordinates"):
        try:
            return list(expression.coordinates(name))
        except KeyError:
            pass
    elif name in expression.names:
        return [expression.names.index(name)]
    elif name in expression.shapes:
        return [i for i, component in enumerate(expression.names) if component.startswith(name + "[")]
    shown = ", ".join(expression.names[:6]) + (", ..." if len(expression.names) > 6 else "")
    raise OptionError(f"--wrt {name}: not a variable of the expression (its variables: {shown})")


def _peek_stdin() -> str | None:
    """The first line of standard input, which stays to be read (it gives the shape of a vector variable)."""
    from numdiff_cli.stdin_lines import LineReader

    stream = sys.stdin
    if stream is None or stream.closed:
        return None
    reader = stream if isinstance(stream, LineReader) else LineReader(stream)
    line = reader.peek()
    sys.stdin = reader  # (read on from where the peek left it)
    return line


def points(expression: Expression, at: Sequence[str], range_text: str | None, order: int = 1) -> Iterator[Chunk]:
    """The points of ``--at`` and ``--range``, in chunks: smaller ones for derivatives of order 2 to 4, whose
    points cost several times more (each chunk's work is bounded in time, see :mod:`numdiff_cli.deadline`)."""
    from numdiff_cli.points import CHUNK, point_chunks

    if not at and range_text is None:
        raise OptionError("no points: give --at POINT (repeatable), --at - for standard input, or --range")
    size = CHUNK if order == 1 else CHUNK // HIGHER_ORDER_CHUNK_DIVISOR
    return point_chunks(at, range_text, expression.names, expression.shapes, sys.stdin, size)


def single_point(chunks: Iterator[Chunk], option: str) -> tuple[list[Chunk], np.ndarray]:
    """The chunks (read once, to be used again) and their only point, for an option that works on one point."""
    chunks_list = list(chunks)
    if sum(chunk.values.shape[1] for chunk in chunks_list) != 1:
        raise OptionError(f"{option} works on one point; give a single --at")
    (chunk,) = (c for c in chunks_list if c.values.shape[1])
    if chunk.problems:
        raise OptionError(next(iter(chunk.problems.values())))
    return chunks_list, chunk.values


def check_method(
    method: str, *, order: int = 1, analytic: bool = True, dtype: str = "float64", order_option: bool = True
) -> None:
    """Refuse a method that cannot compute this derivative (see :func:`numdiff_cli.contract.method_refusal`)."""
    refusal = method_refusal(method, order=order, analytic=analytic, dtype=dtype, order_option=order_option)
    if refusal is not None:
        raise OptionError(refusal)


def single_variable(expression: Expression, wrt: str | None) -> tuple[Expression, str]:
    """The expression and the variable to differentiate by: ``--wrt``, its only variable, or ``x``."""
    if wrt is not None:
        shape = getattr(expression, "variables", {}).get(wrt)
        if shape:
            first = f"{wrt}[{','.join('0' * len(shape))}]"
            raise OptionError(
                f"--wrt {wrt}: {wrt} has shape {str(shape).replace(' ', '')}; differentiate by one element "
                f"(--wrt {first!r}), or use grad --wrt {wrt}"
            )
        if expression.names and wrt not in expression.names:
            shown = ", ".join(expression.names[:6])
            raise OptionError(f"--wrt {wrt}: {wrt} does not occur in the expression (its variables: {shown})")
        expression = expression.with_variable(wrt)
        return expression, wrt
    if not expression.names:
        return expression.with_variable("x"), "x"
    if len(expression.names) > 1:
        shown = ", ".join(expression.names[:6])
        raise OptionError(f"the expression has several variables ({shown}); choose one with --wrt")
    return expression, expression.names[0]


def sweep_range(text: str | None) -> tuple[float, float, int]:
    """``--sweep-range START:STOP[:NUM]`` -> (start, stop, num); by default 1e-1 ... 1e-16, one step per decade."""
    if text is None:
        return 1e-1, 1e-16, 16
    parts = text.split(":")
    try:
        start, stop = float(parts[0]), float(parts[1])
        num = int(parts[2]) if len(parts) == 3 else None
    except (ValueError, IndexError):
        raise OptionError(f"--sweep-range {text!r}: expected START:STOP[:NUM], e.g. 1e-1:1e-16:16") from None
    if len(parts) > 3 or not (0 < start < math.inf and 0 < stop < math.inf) or start == stop:
        raise OptionError(f"--sweep-range {text!r}: START and STOP must be different positive finite steps")
    if num is None:
        # By logarithms, not log10(start / stop): 1e308 / 1e-308 overflows.
        num = round(abs(math.log10(start) - math.log10(stop))) + 1  # one step per decade
    if not 2 <= num <= 1000:
        raise OptionError(f"--sweep-range {text!r}: NUM must be between 2 and 1000")
    return start, stop, num

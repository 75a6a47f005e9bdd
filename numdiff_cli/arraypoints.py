"""What points say about array variables: the shapes a first point gives them, and the values of ``--let``.

``--at x=[3,4]`` (by name), ``--at [[1,2],[3,4]]`` or ``--at 3,4`` (all the values of the only variable), or a
first line of standard input give the shapes to which :func:`numdiff_cli.bound.bind` binds an expression with array
values; ``--let t=[0,0,1],x=2`` gives values held for every point. The points themselves are then read by
:mod:`numdiff_cli.points` like any others.
"""

from __future__ import annotations

import numpy as np

from numdiff_cli.errors import PointError
from numdiff_cli.points import MAX_POINT_TEXT, SEPARATORS, read_array, shown_text, split_top_level


def _array_value(text: str, where: str) -> np.ndarray:
    """:func:`read_array` for the value of an array variable: a number, a vector or a matrix, not empty."""
    array = read_array(text, where)
    if array.ndim > 2 or array.size == 0:
        raise PointError(f"{where}: a value is a number, a vector [3,4] or a matrix [[1,2],[3,4]]")
    return array


def named_arrays(text: str, where: str) -> dict[str, np.ndarray]:
    """``t=[0,0,1],x=2``: values by name (``--let``), each a number or a list of numbers."""
    values: dict[str, np.ndarray] = {}
    if len(text) > MAX_POINT_TEXT:
        raise PointError(f"{where}: longer than {MAX_POINT_TEXT} characters")
    for part in split_top_level(text):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise PointError(f"{where}: expected NAME=VALUE, e.g. t=[0,0,1]")
        if name in values:
            raise PointError(f"{where}: {name!r} is given twice")
        values[name] = _array_value(value, where)
    return values


def point_shapes(
    text: str, variables: tuple[str, ...], stdin_line: str | None, option: str = "--at"
) -> dict[str, tuple[int, ...]]:
    """The shapes of array variables as a first point gives them: ``x=[3,4]`` (by name), ``[[1,2],[3,4]]`` or
    ``3,4`` (all the values of the only variable), or a line of standard input (``stdin_line``, for ``-``);
    errors name ``option``."""
    where = f"{option} {shown_text(text)}"
    stripped = text.strip()
    if stripped == "-":
        if stdin_line is None or len(variables) != 1:
            return {}
        count = len([p for p in SEPARATORS.split(stdin_line.strip()) if p])
        return {variables[0]: (count,)} if count > 1 else {}
    if len(text) > MAX_POINT_TEXT:
        raise PointError(f"{option}: point text longer than {MAX_POINT_TEXT} characters")
    if stripped.startswith("["):
        if len(variables) != 1:
            raise PointError(f"{where}: name the variable of a list, e.g. x=[3,4], since there are several")
        return {variables[0]: _array_value(stripped, where).shape}
    parts = split_top_level(stripped)
    if any("=" in part for part in parts):
        shapes = {}
        for part in parts:
            name, _, value = part.partition("=")
            if value.strip().startswith("["):
                shapes[name.strip()] = _array_value(value, where).shape
        return shapes
    if len(variables) == 1:
        if len(parts) == 1:
            parts = [p for p in SEPARATORS.split(stripped) if p]
        return {variables[0]: (len(parts),)} if len(parts) > 1 else {}
    return {}

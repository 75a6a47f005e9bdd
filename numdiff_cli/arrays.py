"""The numpy side of array values: the functions generated code calls for the array functions, and their shapes.

An expression with array variables (``sum(x**2)``, ``W @ x``) is compiled to code over arrays whose *last* axis
is the batch of points: a vector variable of 3 components evaluated at ``B`` points is an array of shape
``(3, B)``, a scalar variable one of shape ``(B,)``, a fixed value (``--let``) one of shape ``(3, 1)``. numpy's
broadcasting of such arrays is numpy's broadcasting of the values themselves (the batch axes always line up), so
the elementwise functions of the language are the numpy functions they already are; the functions below treat the
leading axes as the value and keep the last one. A Python number (a constant of the expression) has no batch axis:
each function takes it as a scalar.

:data:`SHAPES` gives the shape of each function's value from the shapes of its arguments (raising
:class:`ShapeError` with a sentence that names the shapes); :mod:`numdiff_cli.bound` checks a whole expression with
it before anything is evaluated. This module imports numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# A slice bound that is left out (x[1:], x[:-1]): generated code holds numbers only, so it stands for None.
NO_BOUND = -(10**9)
# Largest number of elements of one variable (a fixed value may be that large), and of the variables that are
# differentiated, together: a gradient evaluates 2n points of n coordinates, n = 10,000 takes seconds (checked
# before any work).
MAX_ELEMENTS = 100_000
MAX_COORDINATES = 10_000

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """Shapes that do not fit: the message names them."""


def _rank(a: Any) -> int:
    return max(np.ndim(a) - 1, 0)


def _axes(a: Any) -> tuple[int, ...]:
    """The axes of the value itself (all but the batch axis); none for a Python number."""
    return tuple(range(np.ndim(a) - 1))


def array_sum(a: Any) -> Any:
    return np.sum(a, axis=_axes(a))


def array_prod(a: Any) -> Any:
    return np.prod(a, axis=_axes(a))


def array_mean(a: Any) -> Any:
    return np.mean(a, axis=_axes(a))


def array_max(a: Any) -> Any:
    return np.max(a, axis=_axes(a))


def array_min(a: Any) -> Any:
    return np.min(a, axis=_axes(a))


def array_norm(a: Any) -> Any:
    """The Euclidean (Frobenius) norm as ``sqrt(sum(a**2))``: its complex continuation is analytic."""
    return np.sqrt(array_sum(a * a))


def array_logsumexp(a: Any) -> Any:
    """``log(sum(exp(a)))`` over all elements, shifted by the largest real part (no overflow)."""
    axes = _axes(a)
    if not axes:
        return a + 0.0
    shift = np.max(np.real(a), axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    return np.log(np.sum(np.exp(a - shift), axis=axes)) + shift.reshape(np.shape(shift)[-1:])


def array_softmax(a: Any) -> Any:
    """``exp(a) / sum(exp(a))`` over all elements, shifted by the largest real part (no overflow)."""
    axes = _axes(a)
    if not axes:
        return a * 0.0 + 1.0
    shift = np.max(np.real(a), axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    e = np.exp(a - shift)
    return e / np.sum(e, axis=axes, keepdims=True)


def array_transpose(a: Any) -> Any:
    return np.swapaxes(a, 0, 1) if _rank(a) == 2 else a


_MATMUL = {
    (1, 1): "i...,i...->...",
    (2, 1): "ij...,j...->i...",
    (1, 2): "i...,ij...->j...",
    (2, 2): "ij...,jk...->ik...",
}


def array_matmul(a: Any, b: Any) -> Any:
    return np.einsum(_MATMUL[_rank(a), _rank(b)], a, b)


def array_dot(a: Any, b: Any) -> Any:
    """numpy's dot: the product with a scalar, else the matrix product."""
    if _rank(a) == 0 or _rank(b) == 0:
        return a * b
    return array_matmul(a, b)


def shaped(value: Any, *like: Any) -> Any:
    """``value`` broadcast to the shape of the arrays ``like`` (variables that cancelled out of it: x - x + 1)."""
    shape = np.broadcast_shapes(np.shape(value), *(np.shape(a) for a in like))
    return np.broadcast_to(value, shape)


def span(start: int, stop: int, step: int) -> slice:
    """The slice ``start:stop:step`` of generated code (:data:`NO_BOUND` for a bound left out)."""
    return slice(*(None if bound == NO_BOUND else int(bound) for bound in (start, stop, step)))


def item(a: Any, *where: Any) -> Any:
    """``a[where]`` on the value's own axes (indices and :func:`span` slices); the batch axis is kept."""
    index = tuple(int(w) if not isinstance(w, slice) else w for w in where)
    return a[index]


# ---- shapes -------------------------------------------------------------------------------------------------


def broadcast(shapes: list[Shape], what: str) -> Shape:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        shown = " and ".join(shown_shape(s) for s in shapes)
        raise ShapeError(f"shapes {shown} do not broadcast in {what}") from None


def shown_shape(shape: Shape) -> str:
    return "scalar" if not shape else str(tuple(shape)).replace(" ", "")


def _reduced(shapes: list[Shape], what: str) -> Shape:
    return ()


def _same(shapes: list[Shape], what: str) -> Shape:
    return shapes[0]


def _transposed(shapes: list[Shape], what: str) -> Shape:
    if len(shapes[0]) > 2:
        raise ShapeError(f"transpose of shape {shown_shape(shapes[0])} in {what}: only vectors and matrices")
    return shapes[0][::-1]


def _matmul(shapes: list[Shape], what: str) -> Shape:
    a, b = shapes
    if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2) or a[-1] != b[0]:
        raise ShapeError(f"shapes {shown_shape(a)} and {shown_shape(b)} do not fit in the matrix product {what}")
    return a[:-1] + b[1:]


def _dot(shapes: list[Shape], what: str) -> Shape:
    if not shapes[0] or not shapes[1]:
        return broadcast(shapes, what)
    return _matmul(shapes, what)


# The generated name of each array function -> the shape of its value from its arguments' shapes.
SHAPES: dict[str, Callable[[list[Shape], str], Shape]] = {
    "array_sum": _reduced,
    "array_prod": _reduced,
    "array_mean": _reduced,
    "array_max": _reduced,
    "array_min": _reduced,
    "array_norm": _reduced,
    "array_logsumexp": _reduced,
    "array_softmax": _same,
    "array_transpose": _transposed,
    "array_matmul": _matmul,
    "array_dot": _dot,
    "shaped": broadcast,
}


def item_shape(shape: Shape, where: list[tuple[int, ...] | int], what: str) -> Shape:
    """The shape of ``value[where]``: each entry an index (int) or a (start, stop, step) slice."""
    if not shape:
        raise ShapeError(f"{what} indexes a number; give an array value, e.g. x=[1,2]")
    if len(where) > len(shape):
        raise ShapeError(f"{len(where)} indices for a value of shape {shown_shape(shape)} in {what}")
    result: list[int] = []
    for axis, (entry, size) in enumerate(zip(where, shape)):
        if isinstance(entry, int):
            if not -size <= entry < size:
                raise ShapeError(
                    f"index {entry} is out of range for axis {axis} of shape {shown_shape(shape)} in {what}"
                )
            continue
        length = len(range(size)[span(*entry)])
        if length == 0:
            raise ShapeError(f"the slice is empty for axis {axis} of shape {shown_shape(shape)} in {what}")
        result.append(length)
    return tuple(result) + shape[len(where) :]

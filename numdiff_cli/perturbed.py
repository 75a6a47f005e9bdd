"""Values of an expression at points that each differ from a base point in one coordinate.

A gradient of ``n`` variables evaluates f at ``2n`` points per step, each the point with one coordinate moved; an
evaluation of all those points as a dense batch costs ``n`` elements per point, ``O(n**2)`` per step. Here a
variable is a :class:`Perturbed` value instead: its value at the base points (the elements that stay) and, for each
point, the few positions that differ and their values. Elementwise functions and arithmetic map the two parts
separately (``O(size + points)``: each element is computed exactly as the dense evaluation computes it); indices,
slices and transposes move the positions; a reduction over the value (sum, prod, ``@`` with a fixed operand, ...)
turns it into an ordinary batch of numbers in ``O(size + points)``: :mod:`numdiff_cli.perturbed_arrays`, with the
rounding of each.

Anything else (``softmax``, a select, two perturbed operands of ``@``, a value broadcast over many elements, non-
finite base values of a reduction) materializes the dense values, as the dense evaluation builds them; so the
results never depend on what is covered, only the time does. A dense value of more than ``budget`` numbers raises
:class:`TooDense`, and :class:`Function` evaluates the batch again in smaller parts. Imports numpy only.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

# Gradients of fewer variables evaluate dense batches: below about this many, the structured evaluation's own
# work (a few dozen numpy calls per evaluation) costs more than the dense one (measured on the two functions of
# benchmarks/gradient.py: even at 48 to 64 variables, ahead from there).
STRUCTURED_FROM = 64
# ... and so do the batches whose dense form holds fewer numbers (points times variables) than this: a pass on a
# few components (the complex step on 2 of 100 is 6 points, 600 numbers) costs less dense than the structured walk
# of the expression, which costs a few dozen numpy calls whatever the batch.
DENSE_BELOW = 4096
# Positions that may differ per point before a value is materialized (x[:-1] * x[1:] has two).
MAX_CHANGES = 16
# What makes the structured evaluation give up for a dense one (the same errors make the dense one return NaN).
FALLBACK_ERRORS = (OverflowError, ZeroDivisionError, ValueError, TypeError)


class TooDense(Exception):
    """A dense value of ``size`` numbers per point would exceed the budget of the evaluation."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


@dataclass(frozen=True)
class Changes:
    """A batch of points, each a base point with one coordinate changed: point ``c`` is ``base[:, which[c]]`` with
    coordinate ``row[c]`` set to ``value[c]`` (``which``, ``row`` and ``value`` have the batch's shape)."""

    base: np.ndarray  # (m, P): the base points, in the dtype of the batch
    which: np.ndarray
    row: np.ndarray
    value: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    def part(self, start: int, stop: int) -> Changes:
        """The points ``start:stop`` of the flattened batch, as a batch of one axis."""
        return Changes(*(self.base, *(a.reshape(-1)[start:stop] for a in (self.which, self.row, self.value))))

    def dense(self) -> np.ndarray:
        """The points themselves, shape ``(m, *shape)``."""
        which, row, value = (a.reshape(-1) for a in (self.which, self.row, self.value))
        points = self.base[:, which]
        points[row, np.arange(len(which))] = value
        return points.reshape(len(self.base), *self.shape)


class Function:
    """``F(points)`` as the dense function computes it, and ``F.at_changes(changes, budget)`` evaluating a
    :class:`Changes` batch by ``structured`` (values of shape ``(*value_shape, points)`` for a batch of one axis,
    raising :class:`TooDense` past ``budget`` numbers), in parts when it is too dense, densely where it fails."""

    def __init__(
        self,
        dense: Callable[[np.ndarray], np.ndarray],
        structured: Callable[[Changes, float], np.ndarray],
        value_shape: tuple[int, ...],
    ):
        self.dense = dense
        self.structured = structured
        self.value_shape = value_shape

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self.dense(points)

    def at_changes(self, changes: Changes, budget: int) -> np.ndarray:
        count = math.prod(changes.shape)
        parts: list[np.ndarray] = []
        start, size = 0, max(count, 1)
        while start < count:
            part = changes.part(start, min(count, start + size))
            try:
                values = self.structured(part, budget if size > 1 else math.inf)
            except TooDense as error:
                size = max(1, min(size - 1, budget // max(error.size, 1)))
                continue
            except FALLBACK_ERRORS:
                values = self._densely(part, budget)
            parts.append(values)
            start += len(part.value)
        values = np.concatenate(parts, axis=-1) if parts else np.zeros((*self.value_shape, 0))
        return values.reshape(*self.value_shape, *changes.shape)

    def _densely(self, changes: Changes, budget: int) -> np.ndarray:
        count = len(changes.value)
        size = max(1, budget // max(len(changes.base), 1))
        pieces = [self.dense(changes.part(s, min(count, s + size)).dense()) for s in range(0, count, size)]
        return np.concatenate(pieces, axis=-1).reshape(*self.value_shape, count)


def variable(changes: Changes, begin: int, shape: tuple[int, ...], budget: float) -> Perturbed:
    """The variable held in the coordinates ``begin : begin + prod(shape)`` of ``changes`` (a batch of one axis)."""
    size = math.prod(shape)
    base = changes.base[begin : begin + size].reshape(*shape, changes.base.shape[1])
    position = changes.row - begin
    inside = (position >= 0) & (position < size)
    if not inside.any():
        empty = np.zeros((len(position), 0), dtype=np.intp)
        return Perturbed(base, changes.which, empty, empty.astype(base.dtype), budget)
    where = np.where(inside, position, -1)[:, None]
    return Perturbed(base, changes.which, where, changes.value[:, None], budget)


def dense_values(value: Any) -> Any:
    """``value`` with every :class:`Perturbed` in it (also in lists) materialized."""
    if isinstance(value, Perturbed):
        return value.dense()
    if isinstance(value, (list, tuple)):
        return type(value)(dense_values(v) for v in value)
    return value


class Perturbed(NDArrayOperatorsMixin):
    """An array value of shape ``shape`` at a batch of points, each a base point with a few elements changed.

    ``base``: the value at the base points, shape ``(*shape, P)``; ``which`` (N,): the base point of each point;
    ``where`` (N, K): the flat positions that differ (-1: none), distinct in each row; ``new`` (N, K): their values.
    """

    __slots__ = ("base", "budget", "new", "where", "which")

    def __init__(self, base: np.ndarray, which: np.ndarray, where: np.ndarray, new: np.ndarray, budget: float):
        self.base, self.which, self.where, self.new, self.budget = base, which, where, new, budget

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.base.shape[:-1])

    @property
    def size(self) -> int:
        return math.prod(self.base.shape[:-1])

    def dense(self) -> np.ndarray:
        """The values at the points, shape ``(*shape, N)``."""
        count = len(self.which)
        if self.size * count > self.budget:
            raise TooDense(self.size)
        dtype = np.result_type(self.base, self.new)
        if self.size == 1:
            # (A number, changed by one column at most per point, its positions being distinct: x[0] * sin(x[-1])
            # added to a sum, materialized at every point.)
            out = self.base.reshape(-1)[self.which].astype(dtype, copy=False)
            for k in range(self.where.shape[1]):
                out = np.where(self.where[:, k] >= 0, self.new[:, k], out)
            return out.reshape(*self.shape, count)
        out = self.base.reshape(self.size, -1)[:, self.which].astype(dtype, copy=False)
        columns = np.arange(count)
        for k in range(self.where.shape[1]):
            valid = self.where[:, k] >= 0
            out[self.where[valid, k], columns[valid]] = self.new[valid, k]
        return out.reshape(*self.shape, count)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = self.dense()
        return values if dtype is None else values.astype(dtype)

    def old(self, where: np.ndarray) -> np.ndarray:
        """The base values at the flat positions ``where`` (N, J) of each point."""
        if self.base.shape[-1] == 1:  # one base point (a gradient at one point): a plain gather
            return self.base.reshape(-1)[np.maximum(where, 0)]
        return self.base.reshape(self.size, -1)[np.maximum(where, 0), self.which[:, None]]

    def at(self, where: np.ndarray) -> np.ndarray:
        """The values at the flat positions ``where`` (N, J) of each point (-1: any value)."""
        if where is self.where:
            return self.new
        values = self.old(where)
        valid = where >= 0
        for k in range(self.where.shape[1]):
            match = (self.where[:, k : k + 1] == where) & valid
            values = np.where(match, self.new[:, k : k + 1], values)
        return values

    def part(self, columns: np.ndarray) -> Perturbed:
        return Perturbed(self.base, self.which[columns], self.where[columns], self.new[columns], math.inf)

    def delta(self) -> np.ndarray:
        """``new - old`` at each changed position, 0 where none (N, K)."""
        return np.where(self.where >= 0, self.new - self.old(self.where), 0)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs or ufunc.nout != 1 or ufunc.signature is not None:
            return getattr(ufunc, method)(*dense_values(inputs), **dense_values(kwargs))
        return elementwise(ufunc, inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return func(*dense_values(args), **{key: dense_values(value) for key, value in kwargs.items()})

    # ndarray ** 2 is numpy's square, ** 0.5 its sqrt: the same operator on the parts gives the same elements.
    def __pow__(self, other: Any) -> Any:
        return elementwise(operator.pow, (self, other))

    def __rpow__(self, other: Any) -> Any:
        return elementwise(operator.pow, (other, self))


def _value_shape(value: Any, count: int) -> tuple[int, ...] | None:
    """The value shape of an operand; None for a dense batch (its last axis is the points)."""
    if isinstance(value, Perturbed):
        return value.shape
    shape = np.shape(value)
    if not shape:
        return ()
    return shape[:-1] if shape[-1] == 1 else None


def _spread(where: np.ndarray, small: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray | None:
    """The positions in ``shape`` that positions ``where`` of a value of shape ``small`` broadcast to; None if
    too many."""
    size = math.prod(small)
    factor = math.prod(shape) // max(size, 1)
    if where.shape[1] * factor > MAX_CHANGES:
        return None
    source = np.broadcast_to(np.arange(size).reshape(small), shape).reshape(-1)
    groups = np.argsort(source, kind="stable").reshape(size, factor)
    spread = np.where((where >= 0)[..., None], groups[np.maximum(where, 0)], -1)
    return spread.reshape(len(where), -1)


def _source(small: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.arange(math.prod(small)).reshape(small), shape).reshape(-1)


def union(wheres: Sequence[np.ndarray]) -> np.ndarray | None:
    """Per row, the distinct positions of all ``wheres`` (-1 where a column has none for that row); None past
    :data:`MAX_CHANGES` columns. A column at a time (there are a few), never a sort of the rows."""
    first = wheres[0]
    if all(w is first or (w.shape == first.shape and bool((w == first).all())) for w in wheres[1:]):
        return first
    kept: list[np.ndarray] = []
    for where in wheres:
        for k in range(where.shape[1]):
            column = where[:, k]
            for other in kept:
                column = np.where(column == other, -1, column)
            if (column >= 0).any():
                kept.append(column)
    if len(kept) > MAX_CHANGES:
        return None
    result = np.empty((len(first), len(kept)), dtype=np.result_type(*kept) if kept else first.dtype)
    for k, column in enumerate(kept):
        result[:, k] = column
    return result


def _two_changes(function: Callable[..., Any], a: Perturbed, b: Perturbed) -> Perturbed:
    """``function(a, b)`` for two values of the same shape that each change one position per point (``x[:-1] *
    x[1:]``): what :func:`union` and :meth:`Perturbed.at` make of them, without their loops (the positions of ``a``,
    then those of ``b`` that ``a`` does not change, -1 where there are none)."""
    mine, theirs = a.where[:, 0], b.where[:, 0]
    same = mine == theirs
    if same.all():
        return Perturbed(function(a.base, b.base), a.which, a.where, function(a.new, b.new), a.budget)
    at_mine = np.where(same, b.new[:, 0], b.old(a.where)[:, 0])
    other = np.where(same, -1, theirs)
    if not (other >= 0).any():  # (b changes no position a does not)
        return Perturbed(function(a.base, b.base), a.which, a.where, function(a.new, at_mine[:, None]), a.budget)
    where = _columns(mine, other)
    left = _columns(a.new[:, 0], a.old(other[:, None])[:, 0])
    right = _columns(at_mine, b.new[:, 0])
    return Perturbed(function(a.base, b.base), a.which, where, function(left, right), a.budget)


def _columns(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``np.stack([first, second], axis=1)`` (two arrays of one axis), without its generality (a fifth of the
    cost of :func:`_two_changes`)."""
    both = np.empty((len(first), 2), dtype=np.result_type(first, second))
    both[:, 0] = first
    both[:, 1] = second
    return both


def elementwise(function: Callable[..., Any], inputs: Sequence[Any]) -> Any:
    """``function`` (elementwise) of ``inputs``, some of them :class:`Perturbed`, as a Perturbed value."""
    if len(inputs) == 1:  # sin(x): the common case, without the bookkeeping below
        (a,) = inputs
        return Perturbed(function(a.base), a.which, a.where, function(a.new), a.budget)
    if len(inputs) == 2:  # what the general case below does for two operands, in fewer steps
        a, b = inputs
        if isinstance(a, Perturbed) and isinstance(b, Perturbed):
            if a.which is b.which and a.base.shape[:-1] == b.base.shape[:-1]:
                if a.where.shape[1] == 1 == b.where.shape[1] and a.where is not b.where:
                    return _two_changes(function, a, b)
                where = union([a.where, b.where])
                if where is not None:
                    return Perturbed(
                        function(a.base, b.base), a.which, where, function(a.at(where), b.at(where)), a.budget
                    )
        elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            dense = a if isinstance(a, np.ndarray) else b
            if dense.ndim and dense.shape[-1] != 1:  # a dense batch: so is the result
                return function(*dense_values(inputs))
    perturbed = [a for a in inputs if isinstance(a, Perturbed)]
    first = perturbed[0]
    if all(a is first or (type(a) in (int, float) or isinstance(a, np.generic)) for a in inputs):
        # The common case (x**2, 0.5*x): one perturbed value and numbers.
        bases = [first.base if a is first else a for a in inputs]
        news = [first.new if a is first else a for a in inputs]
        return Perturbed(function(*bases), first.which, first.where, function(*news), first.budget)
    count = len(first.which)
    found = [_value_shape(a, count) for a in inputs]
    if any(s is None for s in found) or any(p.which is not first.which for p in perturbed):
        return function(*dense_values(inputs))
    shapes = [s for s in found if s is not None]
    shape = shapes[0] if all(s == shapes[0] for s in shapes) else tuple(np.broadcast_shapes(*shapes))
    wheres = []
    for p in perturbed:
        spread = p.where if p.shape == shape else _spread(p.where, p.shape, shape)
        if spread is None:
            return function(*dense_values(inputs))
        wheres.append(spread)
    where = union(wheres)
    if where is None:
        return function(*dense_values(inputs))
    bases, news = [], []
    for a, s in zip(inputs, shapes):
        if isinstance(a, Perturbed):
            bases.append(a.base)
            news.append(a.at(where if a.shape == shape else _source(a.shape, shape)[where]))
        elif not s and np.ndim(a) == 0:
            bases.append(a)
            news.append(a)
        else:
            bases.append(a)
            news.append(np.broadcast_to(np.asarray(a)[..., 0], shape).reshape(-1)[np.maximum(where, 0)])
    return Perturbed(function(*bases), first.which, where, function(*news), first.budget)

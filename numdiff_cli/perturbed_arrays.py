"""The array functions of generated code (:mod:`numdiff_cli.arrays`) on :class:`~numdiff_cli.perturbed.Perturbed`
values: reductions that turn them into ordinary batches of numbers in ``O(size + points)``, products with a fixed
operand, indices, slices and transposes that move their changed positions.

- ``sum`` is the base sum plus the change of the elements that differ, ``S + (g' - g)``: the rounding of ``S`` is
  the same for every point of a base point, so it cancels from their differences, and what is left is one
  rounding of the result, within the few ``eps * sum|g|`` by which a fresh sum of the elements may differ;
  ``mean`` and ``norm`` are sums;
- ``prod``, ``max`` and ``min`` combine the new element with the product (extreme) of the others, from prefix and
  suffix products (never a division: a zero element is no problem), within the same ``n * eps`` as a fresh product;
- ``@`` and ``dot`` with a fixed operand (a ``--let`` value): the base product plus the new element's change times
  the other operand's row or column; ``logsumexp`` is a shifted sum.

Each function takes what is not perturbed to the function of :mod:`numdiff_cli.arrays` it replaces, and
materializes what it does not cover (a perturbed value of few elements, the points whose base values are not
finite): those points get exactly the dense evaluation. Imports numpy only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from numdiff_cli import arrays
from numdiff_cli.perturbed import Perturbed, TooDense, dense_values, elementwise

# Values with fewer elements are reduced as dense values (cheaper, and exactly the dense arithmetic).
DENSE_BELOW = 8


def _reducible(a: Any) -> bool:
    return isinstance(a, Perturbed) and a.size >= DENSE_BELOW and np.result_type(a.base, a.new).kind in "fc"


def _redo(result: np.ndarray, a: Perturbed, bad: np.ndarray, reduce: Callable[[Any], Any]) -> np.ndarray:
    """``result`` (value axes first, points last) with the points ``bad`` computed densely, in parts."""
    if not bad.any():
        return result
    columns = np.flatnonzero(bad)
    result = result.astype(np.result_type(result, a.base, a.new), copy=True)
    size = max(1, int(min(a.budget, 10**6)) // max(a.size, 1))
    for start in range(0, columns.size, size):
        chosen = columns[start : start + size]
        result[..., chosen] = reduce(a.part(chosen).dense())
    return result


def array_sum(a: Any) -> Any:
    if not _reducible(a):
        return arrays.array_sum(dense_values(a))
    # (np.add.reduce: np.sum and ndarray.sum without their Python wrappers.)
    total = np.add.reduce(a.base.reshape(a.size, -1), axis=0)[a.which]
    result = total + np.add.reduce(a.delta(), axis=1)
    # A finite result comes from finite base values and changes; any other point (a non-finite element at the
    # base point, which S - g + g' cannot take out) is summed afresh.
    return _redo(result, a, ~np.isfinite(result), arrays.array_sum)


def array_mean(a: Any) -> Any:
    if not _reducible(a):
        return arrays.array_mean(dense_values(a))
    return array_sum(a) / a.size


def array_norm(a: Any) -> Any:
    return np.sqrt(array_sum(a * a))


def _without(a: Perturbed, combine: np.ufunc, identity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point with one changed position: ``combine`` of the other elements and the new one; also the
    points with one change and those with more."""
    flat = a.base.reshape(a.size, -1)
    pad = np.full((1, flat.shape[1]), identity, dtype=flat.dtype)
    before = combine.accumulate(np.concatenate([pad, flat[:-1]]), axis=0)
    after = combine.accumulate(np.concatenate([pad, flat[:0:-1]]), axis=0)[::-1]
    changed = (a.where >= 0).sum(axis=1)
    k = np.argmax(a.where, axis=1) if a.where.shape[1] else np.zeros(len(a.which), dtype=np.intp)
    one = np.flatnonzero(changed == 1)
    position = a.where[one, k[one]]
    others = combine(before[position, a.which[one]], after[position, a.which[one]])
    return combine(others, a.new[one, k[one]]), one, changed > 1


def _combined(a: Any, combine: np.ufunc, identity: float, reduce: Callable[[Any], Any]) -> Any:
    if not _reducible(a) or (identity != 1.0 and np.iscomplexobj(a.base)):
        return reduce(dense_values(a))
    result = reduce(a.base)[a.which].astype(np.result_type(a.base, a.new))
    values, one, many = _without(a, combine, identity)
    result[one] = values
    return _redo(result, a, many | ~np.isfinite(result), reduce)


def array_prod(a: Any) -> Any:
    return _combined(a, np.multiply, 1.0, arrays.array_prod)


def array_max(a: Any) -> Any:
    return _combined(a, np.maximum, -np.inf, arrays.array_max)


def array_min(a: Any) -> Any:
    return _combined(a, np.minimum, np.inf, arrays.array_min)


def array_logsumexp(a: Any) -> Any:
    """``log(sum(exp(a - s))) + s`` with the shift ``s`` of the base point (points that overflow: densely)."""
    if not _reducible(a) or np.iscomplexobj(a.base) or np.iscomplexobj(a.new):
        return arrays.array_logsumexp(dense_values(a))
    shift = np.max(a.base.reshape(a.size, -1), axis=0)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    shifted = Perturbed(a.base - shift, a.which, a.where, a.new - shift[a.which][:, None], a.budget)
    result = np.log(array_sum(np.exp(shifted))) + shift[a.which]
    return _redo(result, a, ~np.isfinite(result), arrays.array_logsumexp)


def array_softmax(a: Any) -> Any:
    return arrays.array_softmax(dense_values(a))


# ---- products, indices, shapes -------------------------------------------------------------------------------


def _rank(a: Any) -> int:
    return len(a.shape) if isinstance(a, Perturbed) else max(np.ndim(a) - 1, 0)


def array_matmul(a: Any, b: Any) -> Any:
    """``a @ b`` with one operand perturbed and the other fixed: the base product plus each change times the fixed
    operand's row or column, a dense batch of the product's shape."""
    if isinstance(a, Perturbed) and isinstance(b, Perturbed):
        if _rank(a) == 1 and _rank(b) == 1:
            return array_sum(a * b)
        return arrays.array_matmul(dense_values(a), dense_values(b))
    if not isinstance(a, Perturbed) and not isinstance(b, Perturbed):
        return arrays.array_matmul(a, b)
    p, fixed = (a, b) if isinstance(a, Perturbed) else (b, a)
    if np.shape(fixed)[-1] != 1:
        return arrays.array_matmul(dense_values(a), dense_values(b))
    base = arrays.array_matmul(a.base if p is a else a, b.base if p is b else b)
    if math.prod(base.shape[:-1]) * len(p.which) > p.budget:
        raise TooDense(math.prod(base.shape[:-1]))
    out = base[..., p.which]
    out = out.astype(np.result_type(out, p.new), copy=False)
    f = np.asarray(fixed)[..., 0]
    columns = np.arange(len(p.which))
    delta = p.delta()
    ra, rb = _rank(a), _rank(b)
    for k in range(p.where.shape[1]):
        d = delta[:, k]
        index = np.unravel_index(np.maximum(p.where[:, k], 0), p.shape)
        if p is a:
            i = index[0]
            if ra == 1:
                out += (f[i] * d) if rb == 1 else (f[i] * d[:, None]).T
            elif rb == 1:
                out[i, columns] += d * f[index[1]]
            else:
                out[i, :, columns] += d[:, None] * f[index[1]]
        else:
            j = index[-1]
            if rb == 1:
                out += (f[j] * d) if ra == 1 else f[:, j] * d
            elif ra == 1:
                out[j, columns] += f[index[0]] * d
            else:
                out[:, j, columns] += f[:, index[0]] * d
    # Finite values come from finite base values and changes; other points (inf - inf) are computed afresh.
    bad = ~np.isfinite(out.reshape(-1, len(p.which))).all(axis=0)
    return _redo(out, p, bad, lambda d: arrays.array_matmul(d, b) if p is a else arrays.array_matmul(a, d))


def array_dot(a: Any, b: Any) -> Any:
    if _rank(a) == 0 or _rank(b) == 0:
        return a * b
    return array_matmul(a, b)


def array_transpose(a: Any) -> Any:
    if not isinstance(a, Perturbed) or len(a.shape) != 2:
        return arrays.array_transpose(a)
    rows, columns = a.shape
    where = np.where(a.where >= 0, (a.where % columns) * rows + a.where // columns, -1)
    return Perturbed(np.swapaxes(a.base, 0, 1), a.which, where, a.new, a.budget)


@functools.lru_cache(maxsize=256)
def _moved(shape: tuple[int, ...], index: tuple[Any, ...]) -> np.ndarray:
    """For each flat position of a value of ``shape``, its position in ``value[index]`` (-1: left out), and -1 for
    position -1; slices as (start, stop, step)."""
    where = tuple(slice(*w) if isinstance(w, tuple) else w for w in index)
    kept = np.arange(math.prod(shape)).reshape(shape)[where]
    # One more entry, -1, at the end: position -1 (no change) indexes it and stays -1.
    moved = np.full(math.prod(shape) + 1, -1)
    moved[kept.reshape(-1)] = np.arange(kept.size)
    moved.setflags(write=False)
    return moved


def item(a: Any, *where: Any) -> Any:
    """``a[where]``: the positions of a Perturbed value move with its elements (those left out are dropped)."""
    if not isinstance(a, Perturbed):
        return arrays.item(a, *where)
    index = tuple(int(w) if not isinstance(w, slice) else w for w in where)
    positions = _moved(a.shape, tuple((w.start, w.stop, w.step) if isinstance(w, slice) else w for w in index))[a.where]
    any_left = (positions >= 0).any(axis=0)
    if any_left.all():  # (the common case: no copies)
        return Perturbed(a.base[index], a.which, positions, a.new, a.budget)
    return Perturbed(a.base[index], a.which, positions[:, any_left], a.new[:, any_left], a.budget)


def shaped(value: Any, *like: Any) -> Any:
    """``value`` in the shape of the variables that cancelled out of it (x - x): it does not depend on them."""
    if isinstance(value, Perturbed):
        return arrays.shaped(*dense_values((value, *like)))
    shape = np.broadcast_shapes(
        np.shape(value)[:-1], *(a.shape if isinstance(a, Perturbed) else np.shape(a)[:-1] for a in like)
    )
    return np.broadcast_to(value, (*shape, np.shape(value)[-1] if np.ndim(value) else 1))


def _cbrt(cbrt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def structured_cbrt(z: Any) -> Any:
        return elementwise(cbrt, (z,)) if isinstance(z, Perturbed) else cbrt(z)

    return structured_cbrt


def _hypot(hypot: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def structured_hypot(x: Any, y: Any) -> Any:
        return elementwise(hypot, (x, y)) if isinstance(x, Perturbed) or isinstance(y, Perturbed) else hypot(x, y)

    return structured_hypot


_OWN = {
    "array_sum": array_sum,
    "array_prod": array_prod,
    "array_mean": array_mean,
    "array_max": array_max,
    "array_min": array_min,
    "array_norm": array_norm,
    "array_logsumexp": array_logsumexp,
    "array_softmax": array_softmax,
    "array_transpose": array_transpose,
    "array_matmul": array_matmul,
    "array_dot": array_dot,
    "item": item,
    "shaped": shaped,
}


def names(numpy_names: dict[str, Any]) -> dict[str, Any]:
    """The namespace of generated code (``numpy_names``) for :class:`Perturbed` arguments: numpy's ufuncs take
    them as they are; the array functions, and the elementwise helpers that are not ufuncs, are replaced."""
    result = {**numpy_names, **_OWN}
    if "cbrt" in numpy_names:
        result["cbrt"] = _cbrt(numpy_names["cbrt"])
    if "hypot" in numpy_names:
        result["hypot"] = _hypot(numpy_names["hypot"])
    return result

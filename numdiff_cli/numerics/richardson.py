"""Richardson extrapolation of central differences: Neville's scheme in ``h**2``.

Two forms of the same recurrence live here, and both are needed as they are. :func:`richardson` builds the
tableau with error estimates for the searches and writes a step as ``(r*b1 - b0) / (r - 1)``; :func:`neville`
builds the bare tableau for the fast pass and its noise weights and writes it as ``b1 + (b1 - b0) / (r - 1)``.
The two are equal in exact arithmetic but round differently, and each pass's results (and the thresholds tuned on
them) are pinned to its own form, so they are not merged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from numdiff_cli.numerics.estimate import columns as columns_of


def richardson(
    estimates: np.ndarray, noise: np.ndarray, steps: np.ndarray, levels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Richardson tableau (Neville's scheme in ``h**2``) of central differences at decreasing ``steps``.

    ``estimates``, ``noise`` and ``steps`` have shape ``(K, *batch)``. Level ``j`` removes the ``h**(2j)`` term
    of the truncation error: ``T[j][k] = (r*T[j-1][k+1] - T[j-1][k]) / (r - 1)`` with
    ``r = (h[k] / h[k+j])**2``. The ratio is computed from the steps actually taken: at large |x| they are
    rounded to multiples of ``ulp(x)``, and assuming the nominal ratio leaves a residual of the order of
    ``ulp(x) / h`` times the truncation error (1e-11 for ``cos`` at 3e7).

    The error of an entry is the larger of its distances to its two neighbours in the same level (entries of
    the same order built on the next larger and next smaller step): in the truncation regime successive entries
    of a level differ by about their own error, in the rounding regime by the noise; requiring both neighbours
    to agree rules out a single accidental agreement. An entry at either end of its level uses instead, as in
    Ridders' method, its larger distance to the two entries of the level below (a looser bound). The rounding
    noise carried through the same linear combination is added as a floor.

    Returns candidate values, error estimates, carried rounding noise, the level and the index of the largest
    step of each, flattened over the tableau to shape ``(C, *batch)``.

    Examples
    --------
    >>> import numpy as np
    >>> steps = 0.1 * 1.6 ** -np.arange(4.0)
    >>> estimates = 1 + steps**2  # central differences of a cubic: exact after one level
    >>> values, errors, _, levels, _ = richardson(estimates, np.zeros(4), steps, 2)
    >>> np.allclose(values[levels == 1], 1.0, rtol=1e-14, atol=0)
    True
    """
    # The entries of all levels, written into one array each as they are computed (no concatenation at the end), and
    # each level computed in place there (a fresh array of this size costs a page fault for each of its pages).
    count = len(estimates)
    total = sum(count - level for level in range(min(levels, count - 1) + 1))
    values = np.empty((total,) + estimates.shape[1:])
    errors = np.empty_like(values)
    noises = np.empty_like(values)
    levels_of, starts = [], []
    row = 0
    current, carried = estimates, noise
    scratch = np.empty(estimates.shape)  # (float64, as the result arrays: whatever the estimates' dtype)
    for level in range(levels + 1):
        if level:
            if len(current) < 2:
                break
            r = (steps[:-level] / steps[level:]) ** 2
            below, below_carried = current, carried
            size = len(below) - 1
            rows = slice(row, row + size)
            current, carried, work = values[rows], noises[rows], scratch[:size]
            # (r * below[1:] - below[:-1]) / (r - 1), and the same for the noise with a sum, operation for operation.
            shrink = r - 1
            np.multiply(r, below[1:], out=work)
            np.subtract(work, below[:-1], out=work)
            np.divide(work, shrink, out=current)
            np.multiply(r, below_carried[1:], out=work)
            np.add(work, below_carried[:-1], out=work)
            np.divide(work, shrink, out=carried)
            # Entries at the ends of a level lack a neighbour: Ridders' distance to the level below bounds them.
            first_edge = np.maximum(np.abs(current[0] - below[1]), np.abs(current[0] - below[0]))
            last_edge = np.maximum(np.abs(current[-1] - below[-1]), np.abs(current[-1] - below[-2]))
        else:
            rows = slice(row, row + len(current))
            values[rows] = current
            noises[rows] = carried
            # (Level 0's ends have no level below: no bound.)
            first_edge = last_edge = np.full(current.shape[1:], np.inf)
        gaps = scratch[: len(current) - 1]
        np.subtract(current[1:], current[:-1], out=gaps)
        np.abs(gaps, out=gaps)
        spread = errors[rows]
        np.maximum(gaps[:-1], gaps[1:], out=spread[1:-1])
        spread[0], spread[-1] = first_edge, last_edge
        np.add(spread, carried, out=spread)
        levels_of.append(np.full(len(current), level))
        starts.append(np.arange(len(current)))
        row += len(current)
    return values, errors, noises, np.concatenate(levels_of), np.concatenate(starts)


def best_on_larger_steps(
    candidates: np.ndarray, errors: np.ndarray, starts: np.ndarray, levels: np.ndarray, best: np.ndarray, shift: int
) -> tuple[np.ndarray, np.ndarray]:
    """Value and error of the best candidate (smallest error) among those of :func:`richardson`'s tableau whose
    steps all come at least ``shift`` places before the largest step of the candidate ``best`` (per point): an
    estimate independent of it. Error ``inf`` where there is none.

    Examples
    --------
    >>> import numpy as np
    >>> values, errors = np.array([[1.0], [2.0], [3.0]]), np.array([[0.1], [0.2], [0.3]])
    >>> starts, levels = np.array([0, 1, 2]), np.array([0, 0, 0])
    >>> best_on_larger_steps(values, errors, starts, levels, np.array([2]), 2)
    (array([1.]), array([0.1]))
    """
    independent = (starts + levels)[:, None] <= starts[best].reshape(1, -1) - shift
    allowed = np.where(independent.reshape(errors.shape[:1] + best.shape), errors, np.inf)
    check = np.argmin(allowed, axis=0)
    return picked(candidates, check), picked(allowed, check)


# first_least: from this many points on, a running minimum over the rows (numpy's argmin over the first axis of a
# C-ordered array is about 3 ns an element, 2.5 times the running minimum at the wide search's 8,192 points; below,
# the rows' Python loop costs more).
RUNNING_FROM = 2048


def first_least(a: np.ndarray) -> np.ndarray:
    """``np.argmin(a, axis=0)`` for ``a`` without NaN (the first of equal least entries), by a running minimum over
    its rows where the batch is large.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).random((40, 3000))
    >>> a[7] = a[3]
    >>> bool((first_least(a) == np.argmin(a, axis=0)).all())
    True
    """
    if a[0].size < RUNNING_FROM:
        return np.argmin(a, axis=0)
    least = a[0].copy()
    index = np.zeros(least.shape, dtype=np.intp)
    smaller = np.empty(least.shape, dtype=bool)
    for row in range(1, len(a)):
        np.less(a[row], least, out=smaller)
        np.copyto(least, a[row], where=smaller)
        np.copyto(index, row, where=smaller)
    return index


def picked(a: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``a[index[p], p]`` for each point ``p``: ``np.take_along_axis(a, index[None], 0)[0]`` for ``a`` of shape
    ``(C, *index.shape)``, in one indexing for a batch of one axis (the gradient's: a few microseconds a call).

    Examples
    --------
    >>> import numpy as np
    >>> picked(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1, 0]))
    array([3., 2.])
    """
    if index.ndim != 1 or a.shape[1:] != index.shape:
        return np.take_along_axis(a, index[None], 0)[0]
    return a[index, np.arange(len(index))]


def neville(estimates: np.ndarray, squares: np.ndarray) -> list[np.ndarray]:
    """The levels ``0 .. K-2`` of the Richardson tableau (Neville's scheme in ``h**2``) of ``K`` central
    differences, ``squares`` holding their steps squared (broadcast against ``estimates``).

    Examples
    --------
    >>> import numpy as np
    >>> steps = np.array([0.4, 0.2, 0.1])
    >>> table = neville(1 + steps**2, steps**2)  # the h**2 term is removed at level 1
    >>> np.allclose(table[-1], 1.0, rtol=1e-14, atol=0)
    True
    """
    table = [estimates]
    for level in range(1, len(estimates) - 1):
        below = table[-1]
        table.append(below[1:] + (below[1:] - below[:-1]) / (squares[:-level] / squares[level:] - 1))
    return table


@cache
def top_weights(steps: tuple[float, ...]) -> tuple[float, ...]:
    """|weight| of the central difference at each of ``steps`` in the last entry of their Richardson tableau
    (level ``len(steps) - 2``, on all steps but the first): how much of each one's rounding noise it carries.

    Examples
    --------
    >>> [round(w, 12) for w in top_weights((0.4, 0.2, 0.1))]
    [0.0, 0.333333333333, 1.333333333333]
    """
    # The tableau of unit vectors: entry j of each row is the weight of the difference at step j.
    table = neville(np.eye(len(steps)), np.square(steps)[:, None])
    return tuple(float(w) for w in np.abs(table[-1][1]))


@cache
def entry_weights(steps: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The entries of the Richardson tableau (:func:`neville`) of central differences at ``steps`` that have a
    neighbour on a smaller step in their level, numbered level after level: their indices, the |weight| of each
    difference in them (shape ``(entries, len(steps))``), and the index of their neighbour on the next smaller
    step and on the next larger one (their own index where there is none).

    Examples
    --------
    >>> entries, weights, smaller, larger = entry_weights((0.4, 0.2, 0.1))
    >>> entries.tolist(), smaller.tolist(), larger.tolist()
    ([0, 1, 3], [1, 2, 4], [0, 0, 3])
    >>> weights.round(12).tolist()[2]
    [0.333333333333, 1.333333333333, 0.0]
    """
    levels = neville(np.eye(len(steps)), np.square(steps)[:, None])
    entries, smaller, larger, start = [], [], [], 0
    for level in levels:
        for k in range(len(level) - 1):
            entries.append(start + k)
            smaller.append(start + k + 1)
            larger.append(start + k - 1 if k else start + k)
        start += len(level)
    weights = np.abs(np.concatenate(levels))[entries]
    return np.array(entries), weights, np.array(smaller), np.array(larger)


def quietest(
    every: np.ndarray,
    rounding: np.ndarray,
    tableau: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    value: np.ndarray,
    noise: np.ndarray,
) -> np.ndarray:
    """The entry of the tableau ``every`` (the levels of :func:`neville` concatenated, on columns of points) to
    report instead of ``value``, per point: where the differences carry more rounding than truncation, the value
    (the last entry, on the smallest steps) is within its rounding ``noise`` of entries on larger steps that carry
    less of it.

    Each entry with a neighbour on a smaller step in its level is judged by its larger distance to its neighbours
    (as :func:`richardson` judges its candidates) plus the worst-case rounding it carries (``tableau``, of
    :func:`entry_weights`: the weights times each difference's ``rounding``); the one judged best is taken if it
    is within ``noise`` of the value and judged better than the value by the same rule (its distance to the other
    entry of its level, plus ``noise``). The value's error estimate stays as it is: the entry taken is within the
    value's rounding of it. Where it applies (a small component of a large sum, ``sum(x**2) + prod(cos(x))`` at n
    = 100, whose differences carry 30 times more rounding than the component has truncation), 0.3 to 1 digit more.
    """
    indices, weights, smaller, larger = tableau
    entries = every[indices]
    with np.errstate(invalid="ignore"):
        gap = np.abs(entries - every[smaller])
        np.maximum(gap, np.abs(entries - every[larger]), out=gap)
        mark = gap + weights @ rounding
        mark[~(np.abs(entries - value) <= noise)] = np.inf
    best = np.argmin(mark, axis=0)
    judged = np.abs(value - every[-2]) + noise  # (the other entry of the last level)
    return np.where(picked(mark, best) < judged, picked(entries, best), value)


# quietest's search made later (quietest_later): called with the flat indices of the points at which to make it.
Quieter = Callable[[np.ndarray], None]


def quietest_later(
    table: list[np.ndarray],
    rounding: np.ndarray,
    tableau: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    value: np.ndarray,
    noise: np.ndarray,
    candidates: np.ndarray,
) -> Quieter:
    """:func:`quietest` on the levels ``table`` of :func:`neville` (on columns of points), made later at the points
    given to the function returned (those of them among the ``candidates``), updating ``value`` in place."""

    def seek(points: np.ndarray) -> None:
        quiet = points[candidates[points]]
        if quiet.size:
            value[quiet] = quietest(
                columns_of(np.concatenate(table), quiet),
                columns_of(rounding, quiet),
                tableau,
                value[quiet],
                noise[quiet],
            )

    return seek

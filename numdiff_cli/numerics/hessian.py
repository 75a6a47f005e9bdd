"""Hessians of vectorized numpy callables, from second derivatives along lines."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from numdiff_cli.contract import IMPRECISE, OK
from numdiff_cli.numerics.estimate import PRECISION, Estimate, concatenated
from numdiff_cli.numerics.lines import line_derivative


def _pairs(m: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``start..stop-1`` of the list of directions, as ``(first, second, sign)``: the direction is
    ``e_first + sign * e_second``; unit vectors have ``second = -1`` and ``sign = 0``."""
    rows = np.arange(start, stop)
    first = rows.copy()
    second = np.full(len(rows), -1)
    sign = np.zeros(len(rows))
    unit = rows < m
    pair = (rows[~unit] - m) // 2
    # Pair p in the order (0,1), (0,2), ..., (1,2), ...: i is the last row whose first pair index is <= p.
    firsts = np.arange(m) * (2 * m - np.arange(m) - 1) // 2
    i = np.searchsorted(firsts, pair, side="right") - 1
    first[~unit] = i
    second[~unit] = pair - firsts[i] + i + 1
    sign[~unit] = np.where((rows[~unit] - m) % 2 == 0, 1.0, -1.0)
    return first, second, sign


def _moves(first: np.ndarray, second: np.ndarray, sign: np.ndarray, position: np.ndarray, width: int) -> np.ndarray:
    """The directions as rows of ``width`` columns: column ``position[k]`` for coordinate ``k`` (-1: left out)."""
    directions = np.zeros((len(first), width))
    rows = np.arange(len(first))
    kept = position[first] >= 0
    directions[rows[kept], position[first[kept]]] = 1.0
    kept = (second >= 0) & (position[np.maximum(second, 0)] >= 0)
    directions[rows[kept], position[second[kept]]] = sign[kept]
    return directions


def hessian_directions(m: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """The ``m + m*(m-1)`` direction vectors whose second directional derivatives give the Hessian.

    Rows ``0..m-1`` are the unit vectors ``e_i``; then, for every pair ``i < j``, ``e_i + e_j`` and ``e_i - e_j``.
    ``start`` and ``stop`` select rows ``start..stop-1`` of that list, built without the others: all of them take
    ``m**3`` numbers (8 GB for 1,000 variables), a block of them as many as the block has rows.
    """
    stop = m * m if stop is None else min(stop, m * m)
    return _moves(*_pairs(m, start, stop), np.arange(m), m)


def hessian(
    f: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    *,
    method: str = "auto",
    step: float | None = None,
    block: int = 4_000_000,
    check_step: bool = False,
    rows: np.ndarray | None = None,
    check_kink: bool = False,
) -> Estimate:
    """Hessian of ``f(X)`` at ``n`` points, ``X`` of shape ``(m, n)``; the result has shape ``(m, m, n)``.

    Parameters
    ----------
    f : callable
        ``f(X)`` with ``X`` of shape ``(m, *batch)``, returning values of shape ``batch``.
    x : array_like
        Points, shape ``(m, n)``.
    method : {"auto", "central", "forward", "backward"}
        As for :func:`numdiff_cli.engine.derivative` with ``order=2`` (the complex step gives first
        derivatives only).
    step : float, optional
        The step ``h`` along each line.
    check_step : bool
        One-step methods: flag steps (given or default) beyond the scale of f, as
        :func:`numdiff_cli.engine.derivative` does.
    check_kink : bool
        ``auto``: the kink test of second derivatives along every direction (as
        :func:`numdiff_cli.engine.derivative` with ``order=2``), which flags an entry whose lines cross a kink of f
        or of its first derivative at x (``x*abs(x)`` at 0) or a singularity far below the steps; 12 more
        evaluations per direction and point.
    block : int
        Upper bound on the number of values in one call of ``f`` (directions are processed in blocks).
    rows : array_like of int, optional
        The rows of ``X`` that ``f`` depends on, in increasing order: ``f`` is then called with those rows only
        (its argument has ``len(rows)`` rows). The result is the same, computed without building the other
        coordinates of the ``m**2`` lines (``x[0] * x[999]**2`` is ``m**2`` times cheaper).

    Returns
    -------
    Estimate
        ``value``, ``error``, ``step`` and ``status`` of shape ``(m, m, n)``, symmetric in the first two axes;
        ``nfev`` counts the evaluations per point and direction.

    Notes
    -----
    The diagonal is the second derivative along each coordinate. An off-diagonal entry comes from the second
    directional derivatives along ``u = e_i + e_j`` and ``v = e_i - e_j``:
    ``f_uu - f_vv = 4 f_ij``, so ``H[i, j] = (f_uu - f_vv) / 4``, symmetric by construction and with the error
    ``(err_u + err_v) / 4``; an entry whose error exceeds its magnitude is OK only where that error is within the
    precision of the lines it comes from. Every direction is differentiated by the same machinery as a single second
    derivative (``auto``: adaptive Richardson extrapolation, truncation ``O(h**10)``), and the perturbed points of
    all directions and all points go to ``f`` in one call per pass.

    Examples
    --------
    >>> import numpy as np
    >>> est = hessian(lambda v: v[0]**2 * v[1] + v[1]**3, [[1.0], [2.0]])
    >>> np.allclose(est.value[:, :, 0], [[4.0, 2.0], [2.0, 12.0]])
    True
    """
    if method == "complex":
        raise ValueError("the complex step gives first derivatives only; use auto or central for a Hessian")
    X = np.asarray(x, dtype=float)
    m, n = X.shape
    used = np.arange(m) if rows is None else np.asarray(rows, dtype=int)
    # First pass: 8 steps of a 3-point stencil per direction and point, one number per coordinate f reads. Points
    # in groups and directions in blocks, each block built when it is evaluated: the working set stays near
    # ``block`` numbers (and the m**2 entries of the result).
    per_point = max(1, len(used)) * 3 * 8
    if n > 1 and per_point * n > block:
        group = max(1, block // per_point)
        parts = [
            hessian(
                f,
                X[:, p : p + group],
                method=method,
                step=step,
                block=block,
                check_step=check_step,
                rows=rows,
                check_kink=check_kink,
            )
            for p in range(0, n, group)
        ]
        return concatenated(parts, axis=2)
    count = m * m
    width = max(1, min(count, block // max(1, per_point * n)))
    position = np.full(m, -1)
    position[used] = np.arange(len(used))
    parts = [
        _directional(f, X, used, _pairs(m, d, min(d + width, count)), position, method, step, check_step, check_kink)
        for d in range(0, count, width)
    ]
    line = concatenated(parts)
    value = np.empty((m, m, n))
    error = np.empty((m, m, n))
    steps = np.empty((m, m, n))
    status = np.empty((m, m, n), dtype=line.status.dtype)
    diagonal = np.arange(m)
    value[diagonal, diagonal] = line.value[:m]
    error[diagonal, diagonal] = line.error[:m]
    steps[diagonal, diagonal] = line.step[:m]
    status[diagonal, diagonal] = line.status[:m]
    # Pair p = (i, j), i < j, in the order of np.triu_indices: its lines are u = e_i + e_j (row m + 2p) and
    # v = e_i - e_j (row m + 2p + 1). Whole arrays at once, the same operations entry by entry.
    i, j = np.triu_indices(m, 1)
    u, v = slice(m, None, 2), slice(m + 1, None, 2)
    entry = (line.value[u] - line.value[v]) / 4
    entry_error = (line.error[u] + line.error[v]) / 4
    value[i, j] = value[j, i] = entry
    error[i, j] = error[j, i] = entry_error
    steps[i, j] = steps[j, i] = line.step[u]
    both = np.where(line.status[u] != OK, line.status[u], line.status[v])
    # An entry whose error estimate exceeds its magnitude is never OK on the strength of the lines alone: it is
    # vouched for relative to the lines it comes from (f_ij can be a small difference of large f_uu and f_vv), or
    # where both lines are derivatives consistent with zero, vouched for absolutely.
    line_sizes = np.maximum(np.abs(line.value[u]), np.abs(line.value[v]))
    absolute = (line.error[u] > PRECISION[2] * np.abs(line.value[u])) & (
        line.error[v] > PRECISION[2] * np.abs(line.value[v])
    )
    # (A method of one step has no error estimate, and its entries no judgment beyond their lines': NaN.)
    vouched = (entry_error <= np.abs(entry)) | (entry_error <= PRECISION[2] * line_sizes) | absolute
    vouched |= np.isnan(line.error[u]) & np.isnan(line.error[v])
    entry_status = np.where((both == OK) & ~vouched, IMPRECISE, both)
    # A line whose own relative error is above the precision (IMPRECISE: consistent, but the line's value is small
    # next to its error, f_uu = f_ii + 2 f_ij + f_jj cancelling) does not make its entry imprecise when the entry's
    # own error estimate meets the precision relative to the entry (sqrt(x*y) at 1,2: f_uu is -0.088 with an error
    # of 2e-12, the entry 0.18 with 5e-13). Any other status of a line (not finite, a kink, unreliable) stays.
    precise_entry = (entry_error <= PRECISION[2] * np.abs(entry)) & np.isfinite(entry)
    lines_only_imprecise = np.isin(line.status[u], (OK, IMPRECISE)) & np.isin(line.status[v], (OK, IMPRECISE))
    entry_status = np.where((entry_status == IMPRECISE) & lines_only_imprecise & precise_entry, OK, entry_status)
    status[i, j] = status[j, i] = entry_status
    return Estimate(value, error, steps, line.nfev, line.method, status)


def _directional(
    f: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    used: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    position: np.ndarray,
    method: str,
    step: float | None,
    check_step: bool,
    check_kink: bool = False,
) -> Estimate:
    """Second derivatives of ``f`` along ``X + t * direction`` for every direction and point; ``f`` reads the rows
    ``used`` of the points (``position[k]``: the place of coordinate ``k`` among them, -1 if not read)."""
    first, second, sign = pairs
    # The coordinate that sets the step's scale: the largest |X| among the direction's components (the first
    # one on a tie; a NaN wins, as in np.argmax).
    size_first = np.abs(X[first])  # (d, n)
    size_second = np.where((second >= 0)[:, None], np.abs(X[np.maximum(second, 0)]), -1.0)
    lead = np.where(np.isnan(size_first) | (size_first >= size_second), first[:, None], second[:, None])
    x_line = np.take_along_axis(X, lead, axis=0)  # (d, n)
    directions = _moves(first, second, sign, position, len(used))  # (d, u)
    Xu = X[used]
    moves = directions.T[:, None, :, None]  # (u, 1, d, 1)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        if sel is None:
            # t: (k, d, n) -> points (u, k, d, n).
            return np.asarray(f(Xu[:, None, None, :] + moves * t[None]))
        # t: (k, s) for s selected (direction, point) pairs -> points (u, k, s).
        direction, point = np.unravel_index(sel, x_line.shape)
        return np.asarray(f(Xu[:, None, point] + directions[direction].T[:, None, :] * t[None]))

    return line_derivative(
        along, x_line, order=2, method=method, step=step, check_step=check_step, check_kink=check_kink
    )

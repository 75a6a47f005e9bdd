"""The tighter error estimate of the fast pass of orders 2 to 4 (:func:`~.fast.vouch_fast`): the truncation error of
its value where its tableau converges as theory says (:func:`converged_truncation`), and the rounding of the
differences' own sums (:func:`sum_error`)."""

from __future__ import annotations

import numpy as np

# converged_truncation: how far a gap ratio may be from theory, and what counts as a gap above rounding.
CONVERGED_WITHIN = 3.0
# ... and the shrink of the last gaps it never assumes faster than this per level: a sudden collapse of the gaps is
# more often luck than convergence.
SHRINK_FLOOR = 0.03
RESOLVED_GAP = 2.0


def converged_truncation(table: list[np.ndarray], steps: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The truncation error of the fast pass's value (the last entry of its tableau ``table``, on ``steps``, whose
    differences carry the rounding ``noise`` at worst), where its gaps shrink as theory says; infinite elsewhere.

    In the asymptotic regime the error of the level-``j`` entry on the steps ``k .. k + j`` is ``C_j`` times the
    product of their squares, so successive gaps of a level shrink by ``rho = (h_k / h_(k+j+1))**2`` (about 21 at
    level 1 and 94 at level 2 for the fast steps). Every gap ratio of levels 1 and 2 must be within
    :data:`CONVERGED_WITHIN` of its ``rho`` (a gap at the rounding level, under :data:`RESOLVED_GAP` times the
    worst-case rounding of its entries, is no evidence either way). Theory would then put the value's error at its
    gap to the other last entry over about 440; the estimate is the searches' far more cautious one (see below).
    """
    squares = steps * steps
    converged = np.ones(table[0].shape[1:], dtype=bool)
    carried = noise
    for level in (1, 2):
        r = squares[:-level] / squares[level:]
        carried = (r * carried[1:] + carried[:-1]) / (r - 1)
        entries = table[level]
        gaps = np.abs(np.diff(entries, axis=0))
        resolved = gaps > RESOLVED_GAP * (carried[:-1] + carried[1:])
        for k in range(len(gaps) - 1):
            rho = squares[k] / squares[k + level + 1]
            expected = rho * (1 - 1 / rho) / (1 - squares[k + level + 2] / squares[k + 1])
            ratio = gaps[k] / gaps[k + 1]
            plausible = (ratio >= expected / CONVERGED_WITHIN) & (ratio <= expected * CONVERGED_WITHIN)
            converged &= plausible | ~resolved[k + 1]
            # A resolved gap after one at the rounding level: the tableau is not converging.
            converged &= resolved[k] | ~resolved[k + 1]
    # The last gaps may shrink faster than a level before (atan at 0.65, order 4: the value's error is 1/14 of the
    # other entry's, not 1/440): the next term is the last gap times its shrink from the level below, at least
    # SHRINK_FLOOR, times 10.
    last = np.abs(table[-1][1] - table[-1][0])
    shrink = np.clip(last / np.abs(table[-2][-1] - table[-2][-2]), SHRINK_FLOOR, 1.0)
    return np.where(converged, 10 * last * shrink, np.inf)


def sum_error(values: np.ndarray, numerators: tuple[int, ...]) -> np.ndarray:
    """The rounding error of :func:`~.stencils.stencil_sum` of ``values`` (each ``(K, n)``): the exact sum minus the
    computed one, to first order, from the exact error of each of its operations in its order (Knuth's two-sum for
    each partial sum; Dekker's product, with Veltkamp's split of the value, for a weight that is not a power of two).
    Partial sums several times |f| (``f(x-2h) - 4 f(x-h)`` at order 4) round; the differences of values next to each
    other that end most sums are exact."""
    error = np.zeros(values[0].shape)
    total = numerators[0] * values[0]
    for c, v in zip(numerators[1:], values[1:]):
        term = c * v
        if abs(c) & (abs(c) - 1):
            split = 134217729.0 * v
            high = split - (split - v)
            error = error + ((c * high - term) + c * (v - high))
        result = total + term
        back = result - total
        error = error + ((total - (result - back)) + (term - back))
        total = result
    return error

"""The rounding noise of f, measured on the evaluations a search has already made."""

from __future__ import annotations

import numpy as np

# The wide search measures the rounding noise of f on its smallest steps (see measured_noise).
NOISE_STEPS = 8


def median(values: np.ndarray) -> np.ndarray:
    """Median over axis 0 ignoring NaN (the lower middle value; 0 where all are NaN).

    A sort and a gather: numpy's ``nanmedian`` goes through masked arrays and costs several times more.

    Examples
    --------
    >>> import numpy as np
    >>> median(np.array([[1.0, np.nan], [4.0, np.nan], [2.0, np.nan], [3.0, np.nan]])).tolist()
    [2.0, 0.0]
    """
    if not len(values):
        return np.zeros(values.shape[1:])
    ordered = np.sort(np.where(np.isnan(values), np.inf, values), axis=0)
    count = np.isfinite(ordered).sum(axis=0)
    middle = np.take_along_axis(ordered, np.maximum(count - 1, 0)[None] // 2, 0)[0]
    return np.where(count > 0, middle, 0.0)


def measured_noise(
    estimates: np.ndarray, steps: np.ndarray, order: int, resolved: np.ndarray | None = None
) -> np.ndarray:
    """The rounding noise of the difference quotients times ``h**order``, measured on the actual evaluations.

    This is what ``eps * |f|`` misses when f cancels internally: ``log(1 + x**2)`` at small x carries the
    rounding of ``1 + x**2``, about ``eps``, not ``eps * |f|``. Two measurements, the larger wins:

    - at the :data:`NOISE_STEPS` smallest steps of the wide search the truncation error is negligible, so
      successive estimates differ by their noise: the median of ``|D_k - D_(k+1)| * h_(k+1)**order`` over those
      with a nonzero difference;
    - a difference that is exactly 0 at a step ``h`` while others are not shows that f does not resolve the
      change ``~ h**order * |D|`` there: the noise is at least ``h**order * |D|`` (median |D| over the resolved
      steps), largest over such steps.

    ``resolved`` (optional) marks the differences well above their rounding level: only those measure |D|, and
    the smallest of them is taken. At order 4 the differences at the smallest steps are rounding of size
    ``eps |f| / h**4`` (1e36 at h = 1e-13), and where the derivative is 0 the resolved differences are truncation
    error that shrinks with the step: a median over either took them for |D| and made the noise of every candidate
    enormous.
    """
    finite = np.isfinite(estimates)
    measured_size = finite & (estimates != 0) if resolved is None else finite & resolved
    unresolved = (estimates == 0) & measured_size.any(axis=0)
    tail = estimates[-NOISE_STEPS:]
    scaled = np.abs(np.diff(tail, axis=0)) * steps[-NOISE_STEPS + 1 :] ** order
    resolved = np.isfinite(scaled) & (tail[1:] != 0) & (tail[:-1] != 0)
    measured = median(np.where(resolved, scaled, np.nan))
    if resolved is None:
        typical = median(np.where(measured_size, np.abs(estimates), np.nan))
    else:
        typical = np.where(measured_size, np.abs(estimates), np.inf).min(axis=0)
        typical = np.where(np.isfinite(typical), typical, 0.0)
    quantum = np.where(unresolved, steps**order * typical, 0.0).max(axis=0)
    return np.maximum(measured, quantum)

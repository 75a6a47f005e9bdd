"""Gradient descent with numdiff's numerical gradient: ``x <- x - lr * grad f(x)``. Imports numpy only.

Descent with a fixed learning rate either arrives (the gradient norm falls below a tolerance), runs out of
steps (the rate is too small, or the function has no minimum), or diverges (the rate is too large: every step
overshoots the minimum by more than the last, so f grows without bound). :func:`descend` tells them apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from numdiff_cli.engine import OK, gradient

# f and |grad f| both growing at this many consecutive steps is divergence: with a rate small enough for the
# function (lr < 2 / L for an L-smooth f) every step lowers f, so a run of increases is the rate's fault.
GROWING_STEPS = 10


@dataclass(frozen=True)
class Step:
    """The state after ``index`` steps (``index = 0`` is the starting point)."""

    index: int
    point: np.ndarray
    value: float
    gradient: np.ndarray
    gradient_norm: float
    converged: bool
    diverged: bool
    status: int = OK  # the first status of the gradient's components that is not OK (a kink, low accuracy...)


def descend(
    f: Callable[[np.ndarray], np.ndarray],
    start: ArrayLike,
    *,
    lr: float,
    steps: int,
    gtol: float = 1e-8,
    method: str = "auto",
    step: float | None = None,
    check_kink: bool = False,
) -> Iterator[Step]:
    """Gradient descent from ``start``, yielding the state at every step; the last one yielded is the result.

    Parameters
    ----------
    f : callable
        ``f(X)`` with ``X`` of shape ``(m, *batch)``, as for :func:`numdiff_cli.engine.gradient`.
    start : array_like
        Starting point, shape ``(m,)``.
    lr : float
        Learning rate: the step is ``-lr * grad f``.
    steps : int
        Maximum number of steps.
    gtol : float
        Stop (converged) when the Euclidean norm of the gradient is at most ``gtol``.
    method, step, check_kink
        Passed to :func:`numdiff_cli.engine.gradient`; each step carries the gradient's status (a kink where the
        descent stops on a ridge or at the bottom of a V, whose gradient is then the average of two slopes).

    Notes
    -----
    Diverged: the point, f or its gradient is not finite (overflow), or f and the gradient norm grew at each
    of the last :data:`GROWING_STEPS` steps.

    Examples
    --------
    >>> import numpy as np
    >>> *_, last = descend(lambda v: v[0]**2 + v[1]**2, [-3.0, 4.0], lr=0.1, steps=100)
    >>> bool(last.converged and np.allclose(last.point, 0.0, atol=1e-8))
    True
    """
    point = np.array(start, dtype=float).reshape(-1)
    growing = 0
    previous: Step | None = None
    for index in range(steps + 1):
        with np.errstate(all="ignore"):
            value = float(np.asarray(f(point[:, None]))[0])
            estimate = gradient(f, point[:, None], method=method, step=step, check_kink=check_kink)
            grad = estimate.value[:, 0]
            norm = float(np.sqrt(np.sum(grad * grad)))
        finite = bool(np.all(np.isfinite(point)) and np.isfinite(value) and np.all(np.isfinite(grad)))
        if previous is not None and value > previous.value and norm > previous.gradient_norm:
            growing += 1
        else:
            growing = 0
        diverged = not finite or growing >= GROWING_STEPS
        converged = not diverged and norm <= gtol
        flags = estimate.status[:, 0][estimate.status[:, 0] != OK]
        current = Step(index, point.copy(), value, grad, norm, converged, diverged, int(flags[0]) if flags.size else OK)
        yield current
        if converged or diverged or index == steps:
            return
        with np.errstate(all="ignore"):
            point = point - lr * grad
        previous = current

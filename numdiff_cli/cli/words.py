"""The words of the results: the sentence each engine status code stands for (:func:`warning_text`, the one
place where a code becomes a sentence) and the warning of a point's row (:func:`first_warning`, :func:`flagged`),
which says along which variables it applies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from numdiff_cli import contract

if TYPE_CHECKING:
    import numpy as np


STATUS_MESSAGES: dict[int, str] = {
    contract.NONFINITE: "the derivative is not finite here (outside the domain, or a singularity)",
    contract.VANISHING_STEP: "the step vanishes next to x (x + h == x in double precision), so the difference is"
    " meaningless; use a larger --h or the default",
    contract.UNRELIABLE: "no reliable estimate: the candidate estimates disagree, the result may be wrong",
    contract.NOT_REAL: "the complex step left the real domain of the function here (branch cut); use another method",
    contract.STEP_TOO_LARGE: "the step is large compared with the scale on which the function changes; the result is"
    " not a derivative (use a smaller --h or the default)",
    contract.IMPRECISE: "low accuracy: the estimated relative error is above the usual precision of this order here"
    " (an ill-conditioned point); see the error estimate",
    contract.OVERFLOW: "the derivative overflows: it is larger than the largest double",
    contract.KINK: "the function has a kink here (the slopes on the left and on the right differ, as for abs or relu at"
    " 0), or varies on a scale far below the steps: the value shown is the average of the two slopes, not a"
    " derivative",
    contract.KINK_BELOW: "the function or a derivative of lower order has a kink here (as the first derivative of"
    " x*abs(x) at 0), or the function varies on a scale far below the steps: the value shown averages the two sides"
    " and is not a derivative of this order",
}


def warning_text(code: int, dtype: str = "float64") -> str:
    """The warning for the status ``code`` of a result computed in ``dtype``."""
    message = STATUS_MESSAGES[int(code)]
    return message if dtype == "float64" else message.replace("double precision", dtype)


# A warning names at most this many of the components it concerns, then their count.
NAMED_COMPONENTS = 5


def first_warning(status: np.ndarray, j: int, dtype: str = "float64", names: Sequence[str] | None = None) -> str | None:
    """The warning of the first entry of point ``j`` (the last axis of ``status``) that is not OK, in C order.

    With ``names`` (one per entry, in C order: the variables of a gradient), it says along which variables, unless
    it concerns all of them: ``along x: the function has a kink here ...`` for ``abs(x) + y`` at x = 0.
    """
    return warning_of(status[..., j].ravel().tolist(), dtype, names)


def warning_of(codes: list[int], dtype: str = "float64", names: Sequence[str] | None = None) -> str | None:
    """The warning of the first of ``codes`` that is not OK; with ``names`` (one per code), along which of them
    (see :func:`first_warning`)."""
    for code in codes:
        if code != contract.OK:
            text = warning_text(code, dtype)
            if names is None or codes.count(code) == len(codes):
                return text
            which = [name for name, other in zip(names, codes) if other == code]
            shown = ", ".join(which[:NAMED_COMPONENTS])
            more = f" and {len(which) - NAMED_COMPONENTS} more" if len(which) > NAMED_COMPONENTS else ""
            return f"along {shown}{more}: {text}"
    return None


def flagged(
    status: np.ndarray, at: Callable[[int], Any], dtype: str = "float64", names: Sequence[str] | None = None
) -> dict[int, tuple[str, Any]]:
    """Row index -> (warning, point) for the points with an entry that is not OK, found without a loop over points.

    ``status`` has the points on its last axis; ``at(j)`` is the point of row ``j``; ``names`` as for
    :func:`first_warning`.
    """
    bad = (status != contract.OK).reshape(-1, status.shape[-1]).any(axis=0)
    return {j: (first_warning(status, j, dtype, names) or "", at(j)) for j in bad.nonzero()[0].tolist()}

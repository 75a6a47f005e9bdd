"""Is the factor 2 on the fast steps of orders 3 and 4 (``steps.FAST_STEP_SCALE``) still needed? ``auto`` with the
factor 2 and with 1, against mpmath.

Run ``python benchmarks/fast_step_scale.py`` (needs the ``bench`` extra; about ten seconds). Eight smooth functions
(exp, sin, log(4 + x), 1/(1 + x**2), tanh, atan, exp(sin(x)), cos(3x)) at 150 points drawn uniformly in [-3, 3]
(seed 3, three decimals), orders 3 and 4, one point per call as the ``diff`` command makes them. Prints, for each
factor and order, the 5th percentile, median and least of the correct digits (relative, against mpmath.diff at 30
digits), the mean and median evaluations per point, the results with status OK whose error is above the error
reported, and those beyond the promise (1e-10 and 1e-8 relative).
"""

from __future__ import annotations

import mpmath
import numpy as np

from numdiff_cli.contract import OK
from numdiff_cli.engine import derivative
from numdiff_cli.numerics import steps

# The promise of orders 3 and 4 (README: 10 and 8 digits).
PROMISE = {3: 1e-10, 4: 1e-8}
FUNCTIONS = {
    "exp": (np.exp, mpmath.exp),
    "sin": (np.sin, mpmath.sin),
    "log(4 + x)": (lambda v: np.log(4 + v), lambda v: mpmath.log(4 + v)),
    "1/(1 + x**2)": (lambda v: 1 / (1 + v * v), lambda v: 1 / (1 + v * v)),
    "tanh": (np.tanh, mpmath.tanh),
    "atan": (np.arctan, mpmath.atan),
    "exp(sin(x))": (lambda v: np.exp(np.sin(v)), lambda v: mpmath.exp(mpmath.sin(v))),
    "cos(3x)": (lambda v: np.cos(3 * v), lambda v: mpmath.cos(3 * v)),
}


def main() -> None:
    mpmath.mp.dps = 30
    points = np.round(np.random.default_rng(3).uniform(-3, 3, 150), 3)
    references = {
        (name, order): [mpmath.diff(exact, mpmath.mpf(float(x)), order) for x in points]
        for name, (_, exact) in FUNCTIONS.items()
        for order in (3, 4)
    }
    saved = dict(steps.FAST_STEP_SCALE)
    try:
        for factor in (2.0, 1.0):
            steps.FAST_STEP_SCALE[3] = steps.FAST_STEP_SCALE[4] = factor
            for order in (3, 4):
                digits, evaluations, outside, beyond = [], [], 0, 0
                for name, (f, _) in FUNCTIONS.items():
                    for x, reference in zip(points, references[name, order]):
                        estimate = derivative(f, np.array([x]), order=order)
                        error = abs(mpmath.mpf(float(estimate.value[0])) - reference)
                        relative = float(error / abs(reference)) if reference else float(error)
                        digits.append(-np.log10(max(relative, 1e-17)))
                        evaluations.append(estimate.nfev)
                        if int(estimate.status[0]) == OK:
                            outside += error > estimate.error[0]
                            beyond += relative > PROMISE[order]
                d = np.array(digits)
                print(
                    f"factor {factor:g}, order {order}: digits p5 {np.percentile(d, 5):.2f} median {np.median(d):.2f} "
                    f"least {d.min():.2f}; evaluations mean {np.mean(evaluations):.1f} median "
                    f"{np.median(evaluations):.0f}; OK outside their error {outside}, beyond the promise {beyond} "
                    f"(of {d.size})"
                )
    finally:
        steps.FAST_STEP_SCALE.update(saved)


if __name__ == "__main__":
    main()

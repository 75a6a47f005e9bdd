"""A corpus of functions whose derivative is a small difference of large terms, with mpmath references: where the
complex step and the real passes of ``auto`` once vouched for values far beyond their error."""

from __future__ import annotations

import mpmath
import numpy as np

EPS = float(np.finfo(float).eps)


def cancelling(seed: int) -> list[tuple[str, float, mpmath.mpf, float]]:
    """Functions whose derivative is a small difference of large terms: ``g(a x) -+ g(b x) + c`` with b within 1e-3
    to 1e-11 of +-a, at four points each: their derivatives (mpmath, 60 digits), and what the rounding of the terms'
    arguments ``a*x`` and ``b*x`` (an ulp each) moves them by, ``sum |a * x| * |a g''(a x)| * eps`` over the terms,
    which no method that evaluates f can see: the complex step's own estimate counts it as ``2 eps |x f''|``, and
    there the terms of f'' cancel too."""
    rng = np.random.default_rng(seed)
    slopes = {"sin": mpmath.cos, "cos": lambda t: -mpmath.sin(t), "exp": mpmath.exp, "atan": lambda t: 1 / (1 + t * t)}
    curvatures = {"sin": mpmath.sin, "cos": mpmath.cos, "exp": mpmath.exp, "atan": lambda t: 2 * t / (1 + t * t) ** 2}
    cases = []
    for name in ["sin", "cos", "exp", "atan"] * 6:
        a = float(10 ** rng.uniform(0, 2.5)) * float(rng.choice([-1, 1]))
        b = a * (1 + float(10 ** rng.uniform(-11, -3))) * (-1 if name in ("sin", "atan") else 1)
        sign = 1 if name in ("sin", "atan") else -1
        text = f"{name}({a!r}*x) {'+' if sign > 0 else '-'} {name}({b!r}*x) + {float(rng.choice([0, 1, 100])):.1f}"
        for _ in range(4):
            x = float(rng.uniform(-1, 1) * 10 ** rng.uniform(-2, 2))
            if name == "exp":
                x = float(np.clip(x, -300 / abs(a), 300 / abs(a)))
            with mpmath.workdps(60):
                X, A, B = mpmath.mpf(x), mpmath.mpf(a), mpmath.mpf(b)
                slope = A * slopes[name](A * X) + sign * B * slopes[name](B * X)
                moved = sum(abs(c * X) * abs(c * curvatures[name](c * X)) for c in (A, B)) * EPS
            cases.append((text, x, slope, float(moved)))
    return cases

"""Derivatives of an analytic f from its values on circles around x: ``auto``'s second opinion on the points whose
real differences it cannot vouch for.

For f analytic in a disk of radius ``R`` around x, the Cauchy integral formula sampled at ``N`` points of a circle
of radius ``r < R`` gives the Taylor coefficients ``c_m = f^(m)(x) r**m / m!`` from one discrete Fourier transform
of the samples (Lyness & Moler 1967, Fornberg 1981). No difference of nearby values is taken, so the rounding of
f is not amplified by ``1 / h**order`` the way a finite difference amplifies it: next to a pole or a branch point,
or where f's rounding limits every real step (``atan`` at 1e4), the circle delivers digits the real steps cannot,
with an error that the samples themselves measure:

- the coefficients of the upper half of the spectrum (``m`` from ``N/2`` to ``N - 1``) are, for an f analytic in
  the disk, the tail of the Taylor series aliased back (tiny where ``r`` is well inside ``R``) and the rounding of
  the samples; where a pole or a branch point is inside the circle, or on it, they are the size of f. Their largest
  (times :data:`NOISE_SAFETY`) bounds both the aliasing and the rounding carried into ``c_order``;
- the imaginary part of ``c_order`` (zero for a function real on the real axis) adds to the error.

Each point is computed on :data:`RADII` circles (relative to the step the real passes chose); the estimate with
the smallest error whose value agrees with the next smaller circle's within both errors is kept. Only for
functions the caller declares analytic (the table's complex capability), never for abs, sign, max, ...
"""

from __future__ import annotations

from math import factorial

import numpy as np

from numdiff_cli.numerics.estimate import EPS, Along

# Samples per circle: the aliasing of c_(order + N) is negligible for r up to about a third of the distance to the
# nearest singularity, and the upper half of the spectrum (16 coefficients) measures the noise.
SAMPLES = 32
# The circles' radii, times the step the real passes chose for the point: h down to h / 16 (on the order-2 to 4
# cases of the honesty corpus, 44 of the 47 results that circles from 8 h down vouched for came from these).
RADII = 2.0 ** np.arange(0, -5, -1)
# The largest coefficient of the upper half of the spectrum bounds the noise of one coefficient with this factor
# (16 samples of the same noise: their largest is 2 to 3 standard deviations).
NOISE_SAFETY = 3.0
# The rounding of f's samples is at least this many ulps of the largest of them.
ROUNDING_ULPS = 4.0


def on_circles(
    along: Along, x: np.ndarray, order: int, step: np.ndarray, sel: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The derivatives of ``order`` at the points ``x`` (flat; ``sel``: their lines in ``along``) from circles of
    radii ``RADII * step``: value, error estimate and the size of f there (infinite error where no circle gives
    an estimate)."""
    count = x.size
    roots = np.exp(2j * np.pi * np.arange(SAMPLES) / SAMPLES)
    radii = RADII[:, None] * np.abs(step)[None, :]  # (circles, points)
    t = radii[:, None, :] * roots[None, :, None]  # (circles, samples, points)
    with np.errstate(all="ignore"):
        samples = np.asarray(along(t.reshape(-1, count), sel), dtype=complex).reshape(t.shape)
        coefficients = np.fft.fft(samples, axis=1) / SAMPLES
        scale = factorial(order) / radii**order
        value = scale * coefficients[:, order, :].real
        tail = np.max(np.abs(coefficients[:, SAMPLES // 2 :, :]), axis=1)
        largest = np.max(np.abs(samples), axis=1)
        noise = np.maximum(NOISE_SAFETY * tail, ROUNDING_ULPS * EPS * largest)
        error = scale * (noise + np.abs(coefficients[:, order, :].imag))
        finite = np.isfinite(samples).all(axis=1) & np.isfinite(value) & np.isfinite(error) & (radii > 0)
        error = np.where(finite, error, np.inf)
        # Two honest estimates agree within their errors; a circle whose value disagrees with the next smaller
        # one's (a singularity between them, aliasing the tail did not show) is not taken.
        agrees = np.abs(value[:-1] - value[1:]) <= error[:-1] + error[1:]
        error[:-1] = np.where(agrees, error[:-1], np.inf)
        error[-1] = np.inf
        best = np.argmin(np.where(np.isfinite(error), error / np.maximum(np.abs(value), 1e-300), np.inf), axis=0)
    columns = np.arange(count)
    fscale = np.maximum(np.abs(coefficients[best, 0, columns]), np.abs(samples[best, 0, columns]))
    return value[best, columns], error[best, columns], fscale

"""``auto``'s fast pass (:func:`fast_pass`): five absolute steps, one call of f, for the common case of a function that
varies on a scale of about 1; and, for orders 2 to 4, its tighter estimate from the rounding f actually carries
(:func:`vouch_fast`)."""

from __future__ import annotations

import numpy as np

from numdiff_cli.numerics.convergence import converged_truncation, sum_error
from numdiff_cli.numerics.estimate import EPS, PRECISION, RESOLVED_ABOVE, Along
from numdiff_cli.numerics.estimate import columns as columns_of
from numdiff_cli.numerics.fine import NOISE_SIGMAS, PROBE_POINTS, QUIET_ULPS, measured_sigmas, stencil_values
from numdiff_cli.numerics.richardson import Quieter, entry_weights, neville, quietest, quietest_later, top_weights
from numdiff_cli.numerics.stencils import quotients, stencil, stencil_sum
from numdiff_cli.numerics.steps import FAST_STEPS, GROWTH_FACTOR, fast_steps
from numdiff_cli.numerics.units import outside_scale, scale_found, unit_of
from numdiff_cli.numerics.verdicts import finite_floor

# fast_estimates' ten results (value, error, step, typical |f|, settled, trusted, truncation, deviation, unit,
# improvable).
FastEstimates = tuple[
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]
# ... and their dtypes.
FAST_KINDS = (float, float, float, float, bool, bool, float, float, float, bool)


def empty_estimates(size: int) -> list[np.ndarray]:
    """Arrays for :func:`fast_estimates`' ten results at ``size`` points, filled in parts."""
    return [np.empty(size, dtype=kind) for kind in FAST_KINDS]


def fast_floor(typical: np.ndarray, step: np.ndarray, x: np.ndarray, order: int) -> np.ndarray:
    """The absolute accuracy the fast pass vouches for: 100 ulp of f next to x (``typical``) carried by the stencil at
    the chosen ``step``, or at |x| if larger (f may vary on that scale: see :func:`fast_pass`)."""
    _, numerators, denominator = stencil(order, "central")
    weight = sum(map(abs, numerators)) / denominator
    with np.errstate(all="ignore"):
        return finite_floor(100 * EPS * typical * weight / np.maximum(step, np.abs(x)) ** order)


# A point the fast pass settles with an error above this (relative) that is mostly the rounding it carries gets the
# scaled pass on larger steps too, which keeps the better of the two (exp(x/1000) on [-10, 10]: 10.9 correct digits
# at worst, 13.6 after).
IMPROVABLE_ABOVE = 1e-11
# A scaled pass measures f's rounding at the points it settles with an error above this fraction of the promise
# (scaled.confirm_scaled).
CONFIRM_WITHIN = 0.1
# With f at x (fast_estimates' grows): the second difference at the smallest fast step may be at most this many times
# the larger of those at the two largest (a smooth f keeps it about constant; a kink makes it 20 times larger over
# the fast steps, a feature far below them 430 times; two steps, so that a second difference that vanishes by
# accident, where the h**2 term of its expansion cancels f'' at one step, is not taken for growth).
CURVATURE_GROWTH = 4.0
# fast_estimates computes nothing but the unit at the points whose every stencil left the domain of f (_outside)
# where at least 1 / OUTSIDE_SHARE of a block's points are such (gathering the others costs about as much as the
# arithmetic of an eighth of them).
OUTSIDE_SHARE = 8


def fast_estimates(
    along: Along,
    x: np.ndarray,
    order: int,
    sel: np.ndarray | None,
    shape: tuple[int, ...],
    unit: np.ndarray | None = None,
    grows: np.ndarray | None = None,
    deferred: np.ndarray | None = None,
    find_units: bool = True,
    floor: np.ndarray | None = None,
    quiet_later: list[Quieter] | None = None,
) -> FastEstimates:
    """``auto``'s first, cheap pass on points ``x`` (flat): the absolute steps :data:`FAST_STEPS`, one call of f
    (``sel``: the flat indices of ``x`` for ``along``; ``None`` for all points, of ``shape``).

    Steps of a fixed size suit the common case, a function that varies on a scale of about 1 wherever x is
    (sin, exp, rational functions, polynomials of moderate degree, at any |x|): there the last entry of the
    Richardson tableau of these steps (level 3, on all steps but the first) is accurate to 13-15 digits. Its
    error estimate is conservative, because a short tableau can agree with itself by accident: its larger
    distance to the other entry of its level and to the last entry of the level below (both built on larger
    steps, so typically 100 times less accurate), plus the rounding noise it carries and a few ulps. Where the
    differences agree at every step (f quadratic along the line), the one at the largest step is taken instead.

    A point is settled here only if its estimate vouches for it (``PRECISION[order]`` relative, or a derivative
    consistent with zero at the rounding level of f), no difference is exactly 0 at some steps but not at others
    (f does not resolve them), and the difference at the smallest step is not 20 times larger than the value (a
    sign of steps beyond the scale of f, where differences grow like 1/h). A rounding-limited estimate does not
    settle: steps relative to |x| may do better (atan at 3e4). The rest go on to the other passes.

    With ``unit`` (per point), the steps are :data:`FAST_STEPS` times it (see :func:`~.scaled.scaled_passes`), and a
    point settles only relative to its value.

    With ``deferred`` (the derivative's passes; a mask of the points, filled in place), the entry of the tableau
    that carries less rounding (order 1, absolute steps: see below) is not sought at the points that go on to a
    scaled pass to improve their digits (``improvable``, below); they are marked in ``deferred``. The scaled pass
    replaces most of them (all of ``exp(x/1000)``, a third of whose time that search took), and
    :func:`~.adaptive.adaptive` comes back to the others.

    With ``floor`` (steps not scaled; filled in place), the absolute floor by which it vouches for a value
    consistent with zero (:func:`fast_floor`).

    With ``quiet_later`` (a list; order 1, absolute steps), that entry is not sought now at all: a function that
    seeks it at the points given it (updating the value in place) is appended to the list instead. The gradient of an
    analytic f takes the complex step's value at most of its components (see :mod:`.gradient`), where the search
    (a tenth of the gradient's time at n = 10) would be thrown away.

    With ``grows`` (order 1: the gradient's passes, whose kink test may be skipped; a mask of the points, filled in
    place), f at x too, in the same call (one more evaluation): the second differences at the five steps, which tend
    to f'' where f is smooth on their scale, must not grow towards the smallest step (:data:`CURVATURE_GROWTH`)
    beyond what rounding makes of them. They grow like 1/h at a kink, and like 1/h**2 next to a feature of f far
    smaller than the steps, where the first differences can all be exactly equal (``exp(-1e20*x**2)`` at 1e-21,
    symmetric at every step: 0 for -0.2). The points where they grow are marked in ``grows`` and not trusted.

    Returns value, error, step, typical |f| near x, the settled mask, the mask of the points whose steps show
    none of those signs (the fine pass of orders 2 to 4 may start from them: see :func:`~.adaptive.adaptive`),
    for orders 2 to 4 the truncation error (:func:`converged_truncation`, plus the tableau's own rounding and, where
    the deviation is computed, the rounding of the differences' sums: :func:`sum_error`), the standard deviation
    of the rounding the value carries per ulp of f (see :func:`vouch_fast`; where it is used, else infinite), the
    unit for a scaled pass (:func:`scale_found`; NaN at the points that do not go on to one, and everywhere without
    ``find_units``: the gradient's fast pass, which no scaled pass follows), and the mask of the points settled with
    an error mostly rounding (:data:`IMPROVABLE_ABOVE`; empty without ``find_units`` at order 1 on absolute steps).
    """
    offsets = stencil(order, "central")[0]
    steps = fast_steps(x, order, unit)
    if deferred is not None:
        deferred[...] = False
    extra = None if grows is None else np.zeros((1, x.size))
    with np.errstate(all="ignore"):
        values, at_x = stencil_values(along, offsets, steps, sel, extra, shape=shape if sel is None else None)
    if order == 1 and unit is None and grows is None and floor is None:
        # Points whose every stencil reaches outside the domain of f (sqrt at 1e-4: every step is larger than x)
        # have no estimate here; only their unit for the scaled pass is computed (see _outside).
        outside = np.isnan(values[:, -1]).any(axis=0)
        if OUTSIDE_SHARE * np.count_nonzero(outside) >= x.size:
            outside &= np.isnan(values).any(axis=0).all(axis=0)
            if OUTSIDE_SHARE * np.count_nonzero(outside) >= x.size:
                return _outside(values, steps, x, outside, deferred, find_units)
    return _estimates(values, at_x, steps, x, order, unit, grows, deferred, find_units, floor, quiet_later)


def _estimates(
    values: np.ndarray,
    at_x: np.ndarray | None,
    steps: np.ndarray,
    x: np.ndarray,
    order: int,
    unit: np.ndarray | None,
    grows: np.ndarray | None,
    deferred: np.ndarray | None,
    find_units: bool,
    floor: np.ndarray | None,
    quiet_later: list[Quieter] | None = None,
) -> FastEstimates:
    """:func:`fast_estimates` from f at its stencils (``values``, and ``at_x`` with ``grows``) on ``steps``."""
    _, numerators, denominator = stencil(order, "central")
    absolute = tuple(map(abs, numerators))
    count = len(FAST_STEPS)
    with np.errstate(all="ignore"):
        scale = denominator * steps**order
        squares = steps * steps
        estimates = quotients(values, numerators, scale)
        # EPS * sum |c_j f_j|, scaled before the sum so that |f| near the largest double does not overflow; and the
        # worst-case rounding of each difference.
        sizes = np.abs(values)
        magnitude = stencil_sum(EPS * sizes, absolute)
        rounding = magnitude / scale
        resolved = np.abs(estimates) > RESOLVED_ABOVE * rounding
        table = neville(estimates, squares)
        value, pair, previous = table[-1][1], table[-1][0], table[-2]
        noise = stencil_sum(rounding, top_weights(FAST_STEPS))
        error = np.maximum(np.abs(value - pair), np.abs(value - previous[-1]))
        # The rounding noise of f carried into the value, and a few ulps of the value for the tableau's own
        # arithmetic.
        error += noise + 8 * EPS * np.abs(value)
        step = steps[1]
        # Differences that agree at every step (within rounding) show f to be quadratic here (a polynomial of
        # degree 2 or less along the line, for the first derivative): the one at the largest step, the least
        # noisy, is then better than an extrapolation, which only adds rounding (x**2 at 1 gives 2.0, not 2 + 6e-15).
        # Its error is the truncation it may still carry, a term c * h**2 whose share 1 - (h_1 / h_0)**2 is its
        # difference to the one at the next step (within both roundings; that difference counted twice, for the
        # terms in h**4 and beyond: sin(x) + 5*x**4 at -70.6, order 3, carries 0.4% more than the h**2 term says),
        # plus its own rounding; and at least what the differences at the smaller steps show beyond their own
        # rounding, which no such term explains where they agree at some steps only (x + 1e-3*sin(2*pi*256*x), whose
        # larger steps are whole periods of the sine). (The spread of the differences fell short of that error at 117
        # of 20,000 points of log(x) in [1e3, 1e6]: at 5759 it was 1.14e-13 for an error of 1.23e-13; and at order 2
        # it is mostly the rounding at the smallest step, 440 times that at the largest.)
        gaps = np.abs(estimates - estimates[0])
        flat = gaps.max(axis=0) + rounding[0] < error
        if flat.any():
            carried = (2 * gaps[1] + rounding[0] + rounding[1]) / (1 - squares[1] / squares[0])
            beyond = (gaps[2:] - rounding[2:]).max(axis=0)
            value = np.where(flat, estimates[0], value)
            error = np.where(flat, np.maximum(carried, beyond) + rounding[0], error)
            step = np.where(flat, steps[0], step)
        else:
            value = value.copy()  # (an entry of the tableau, which the quiet entries below read)
        typical = magnitude[-1] / (EPS * sum(absolute))
        size = np.abs(value)
        settled = error <= PRECISION[order] * size
        if unit is None:
            # A value consistent with zero is vouched for at the rounding level of f on the scale of these steps, or
            # of |x| if larger: f may vary on that scale (x**2 at 1e9, order 2, where every difference is the
            # rounding of f ~ 1e18 and 0 +- 8e3 would pass at steps of 0.1), and the relative first pass then does
            # better. (Steps scaled to a unit vouch only relative to the value: see below.)
            vouching = fast_floor(typical, step, x, order)
            settled |= (size <= 10 * error) & (error <= vouching)
            if floor is not None:
                floor[...] = vouching
        # Exact zeros at some steps but not all, or a growth towards the smallest step, are signs of steps f does
        # not resolve or of steps beyond its scale; differences all exactly 0 (a derivative that is exactly 0) are
        # neither.
        if estimates.all():
            # (No difference exactly 0, the common case: nothing to count.)
            all_zero = np.zeros(value.shape, dtype=bool)
            trusted = np.ones(value.shape, dtype=bool)
        else:
            zeros = np.count_nonzero(estimates == 0, axis=0)
            all_zero = zeros == count
            trusted = (zeros == 0) | all_zero
        trusted &= (np.abs(estimates[-1]) * GROWTH_FACTOR <= size) | ~resolved[-1]
        # Differences all at the rounding level (and not all exactly 0) measure nothing at these steps: f may vary
        # on a much larger scale (x**2 at 1e9, order 2, where every difference is the rounding of f ~ 1e18), on
        # which the relative first pass resolves the derivative.
        trusted &= resolved.any(axis=0) | all_zero
        if grows is not None and at_x is not None:
            second = (values[0] + values[-1] - 2 * at_x[0]) / squares
            # What rounding can make of a second difference at the smallest step: 1e3 ulps of f (as the kink test).
            carried = 1e3 * EPS * np.maximum(sizes.max(axis=(0, 1)), np.abs(at_x[0])) / squares[-1]
            larger = np.maximum(np.abs(second[0]), np.abs(second[1]))
            grows[...] = np.abs(second[-1]) > CURVATURE_GROWTH * larger + carried
            trusted &= ~grows
        if order >= 2:
            truncation = converged_truncation(table, steps, rounding) + 8 * EPS * size
            truncation = np.where(flat, np.inf, truncation)
        else:
            truncation = np.full(value.shape, np.inf)
        # Steps scaled to a unit measured on other steps (scaled.scaled_passes) vouch only relative to the value
        # (above): the absolute floor is rounding on the scale of the steps, which there may be far below the scale
        # on which f varies (a unit of |x| at x = 1e-16, where every difference of f ~ 1 is 0 and 0 +- 20 would
        # pass).
        if unit is not None:
            # Nor do differences that are all exactly 0 or all exactly equal say anything there: on steps below what
            # an intermediate of f resolves (1 + x + h at x = 1e-20) f is exactly constant or exactly linear
            # (log(1 + x) at order 3: 0 +- 0 for 2; sqrt(1 + x) - 1 - x/2 at 1e-8: 0 +- 0 for -2.5e-9).
            trusted &= (estimates != estimates[0]).any(axis=0)
        settled &= trusted
        if order == 1 and unit is None:
            # Where rounding is most of the error of a point it settles, an entry on larger steps that carries less
            # of it (a small component of a large sum); the points it leaves go on with the last entry, which the
            # passes after replace. Not on scaled steps, nor for orders 2-4, whose tighter estimate bounds the last
            # entry itself: there the entries taken were worse as often as better on the honesty corpus.
            # (The error of a point that is not flat is still the tableau's.)
            quiet_ = (noise >= error - noise) & settled & ~flat
            if deferred is not None:
                deferred[...] = quiet_ & (noise > error - noise) & (error > IMPROVABLE_ABOVE * size)
                quiet_ &= ~deferred
            if quiet_later is not None:
                quiet_later.append(quietest_later(table, rounding, entry_weights(FAST_STEPS), value, noise, quiet_))
            else:
                count_quiet = np.count_nonzero(quiet_)
                if count_quiet:
                    quiet = slice(None) if count_quiet == value.size else np.flatnonzero(quiet_)  # (all: no copies)
                    value[quiet] = quietest(
                        columns_of(np.concatenate(table), quiet),
                        columns_of(rounding, quiet),
                        entry_weights(FAST_STEPS),
                        value[quiet],
                        noise[quiet],
                    )
        # The spread of the value's rounding per ulp of f, where it is used: for orders 2 to 4 at the points that
        # could settle with a tighter estimate (vouch_fast), and in scaled passes at the points settled close to
        # the promise (scaled.confirm_scaled).
        deviation = np.full(value.shape, np.inf)
        if not find_units and order == 1 and unit is None:
            # (The gradient's fast pass: none of the ingredients of the passes of a derivative that follow it.)
            nothing = np.full(value.shape, np.nan)
            return value, error, step, typical, settled, trusted, truncation, deviation, nothing, np.zeros_like(settled)
        wanted = ~settled & trusted if order >= 2 else np.zeros(value.shape, dtype=bool)
        if unit is not None:
            wanted |= settled & (error > CONFIRM_WITHIN * PRECISION[order] * np.abs(value))
        columns = np.flatnonzero(wanted)
        if columns.size:
            picked, scale_picked = columns_of(values, columns), columns_of(scale, columns)
            squares = np.square(picked)
            variance = stencil_sum(squares, tuple(c * c for c in numerators)) * np.square(EPS / scale_picked)
            spread_ = np.sqrt(stencil_sum(variance, tuple(w * w for w in top_weights(FAST_STEPS))))
            deviation[columns] = np.where(flat[columns], np.sqrt(variance[0]), spread_)
            if order >= 2:
                # The rounding of the differences' own sums, which no measure of f's rounding sees (tanh at 2.35,
                # order 4: 2.2e-9 of the value's 3.2e-9 error, where f's rounding carried 1.0e-9), carried into
                # the value as the tableau carries the differences.
                sums = sum_error(picked, numerators) / scale_picked
                truncation[columns] += np.abs(neville(sums, np.square(columns_of(steps, columns)))[-1][1])
        # Settled, but with fewer digits vouched for than larger steps would give: the error is mostly rounding
        # (f varies on a scale much larger than these steps, as exp(x/1000)).
        improvable = settled & (noise > error - noise) & (error > IMPROVABLE_ABOVE * np.abs(value))
        # The unit for the points that go on to a scaled pass.
        # (On all points where most go on: gathering the columns costs more than the arithmetic it saves.)
        going = ~settled | improvable
        count_going = np.count_nonzero(going) if find_units else 0
        found = np.full(value.shape, np.nan)
        if 2 * count_going > going.size:
            # (NaN where the point does not go on, as below: each point's unit is its own, whatever its block.)
            found = np.where(going, scale_found(x, order, steps, estimates, rounding, noise, error, unit), np.nan)
        elif count_going:
            columns = np.flatnonzero(going)
            found[columns] = scale_found(
                x[columns],
                order,
                columns_of(steps, columns),
                columns_of(estimates, columns),
                columns_of(rounding, columns),
                noise[columns],
                error[columns],
                None if unit is None else unit[columns],
            )
    return value, error, step, typical, settled, trusted, truncation, deviation, found, improvable


def _outside(
    values: np.ndarray,
    steps: np.ndarray,
    x: np.ndarray,
    outside: np.ndarray,
    deferred: np.ndarray | None,
    find_units: bool,
) -> FastEstimates:
    """:func:`fast_estimates` of order 1 on absolute steps where the points ``outside`` (a mask; at least
    1 / :data:`OUTSIDE_SHARE` of them) have a value of f that is NaN at every step: :func:`_estimates` on the others,
    and for these what it gives them, without its arithmetic. Their differences are all NaN, so is every entry of the
    tableau: value and error NaN, the step the tableau's, neither settled nor trusted, and the unit of a step that
    left the domain of f at every step (:func:`scale_found`: at most |x| and the smallest step). Bit for bit what
    :func:`_estimates` gives them (tests/test_fast_outside.py), at a tenth of its cost: ``sqrt(x)`` and ``x**2.5`` at
    1e-6 to 1e-2, where every point is outside, spent half their time on it."""
    inside = np.flatnonzero(~outside)
    columns: np.ndarray | slice
    part = None if deferred is None else np.zeros(inside.size, dtype=bool)
    outputs = empty_estimates(x.size)
    if inside.size:
        for output, result in zip(
            outputs,
            _estimates(
                columns_of(values, inside),
                None,
                columns_of(steps, inside),
                x[inside],
                1,
                None,
                None,
                part,
                find_units,
                None,
            ),
        ):
            output[inside] = result
        if deferred is not None and part is not None:
            deferred[inside] = part
    columns = np.flatnonzero(outside) if inside.size else slice(None)  # (all: no copies)
    absolute = tuple(map(abs, stencil(1, "central")[1]))
    value, error, step, typical, settled, trusted, truncation, deviation, found, improvable = outputs
    value[columns] = error[columns] = np.nan
    step[columns] = steps[1, columns]
    with np.errstate(all="ignore"):
        # (As _estimates computes the typical |f| and scale_found the unit, operation for operation.)
        magnitude = stencil_sum(EPS * np.abs(values[:, -1, columns]), absolute)
        typical[columns] = magnitude / (EPS * sum(absolute))
        settled[columns] = trusted[columns] = improvable[columns] = False
        truncation[columns] = deviation[columns] = np.inf
        if find_units:
            found[columns] = unit_of(outside_scale(x[columns], steps[-1, columns]))
        else:
            found[columns] = np.nan
    return value, error, step, typical, settled, trusted, truncation, deviation, found, improvable


def fast_pass(
    along: Along,
    x: np.ndarray,
    order: int,
    sel: np.ndarray | None,
    shape: tuple[int, ...],
    grows: np.ndarray | None = None,
    quiet_later: list[Quieter] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fast_estimates` without the ingredients of :func:`vouch_fast` and of the scaled passes: value, error,
    step, typical |f| near x, the settled mask, the trusted mask (``grows`` and ``quiet_later`` as there) and the
    absolute floor it judged by (:func:`fast_floor`)."""
    floor = np.empty(x.shape)
    estimates = fast_estimates(
        along, x, order, sel, shape, grows=grows, find_units=False, floor=floor, quiet_later=quiet_later
    )
    return (*estimates[:6], floor)


def vouch_fast(
    along: Along,
    x: np.ndarray,
    order: int,
    value: np.ndarray,
    error: np.ndarray,
    step: np.ndarray,
    settled: np.ndarray,
    trusted: np.ndarray,
    truncation: np.ndarray,
    deviation: np.ndarray,
) -> int:
    """Orders 2 to 4: a tighter error estimate for the fast pass's values it does not settle, from the rounding f
    actually carries; settles (updates ``error`` and ``settled``, of the shape of ``x``, in place) those it vouches
    for, and returns the evaluations of f per point it made (0 if none).

    The fast pass's own estimate counts the worst case of rounding (every value of f off by ``EPS * |f|`` with the
    signs that add up, 5 to 10 times what the values carry) and the gaps to entries built on larger steps (about 100
    times less accurate than the value). Where its tableau converges as theory says, the value's truncation error is
    bounded from the last gap and its shrink from the level below (:func:`converged_truncation`: at least 0.3 times
    the gap, which at order 2 is itself mostly rounding for smooth functions), and its rounding is counted as
    :data:`~.fine.NOISE_SIGMAS` standard deviations from the rounding of f measured next to x
    (:func:`~.fine.measured_sigmas`), as the fine pass counts it. Only the points that could settle so are probed.
    """
    flat = [a.reshape(-1) for a in (x, value, error, step, settled, trusted, truncation, deviation)]
    xs, v, e, s, done, sure, t, d = flat
    with np.errstate(all="ignore"):
        hopeful = ~done & sure & (t + NOISE_SIGMAS * QUIET_ULPS * d <= PRECISION[order] * np.abs(v))
    sel = np.flatnonzero(hopeful)
    if not sel.size:
        return 0
    tight = t[sel] + measured_sigmas(along, xs[sel], s[sel], sel) * d[sel]
    with np.errstate(invalid="ignore"):
        good = tight <= PRECISION[order] * np.abs(v[sel])
    e[sel[good]] = tight[good]
    done[sel[good]] = True
    return PROBE_POINTS

"""The honesty corpus (benchmarks/honesty_cases.py) and its classifier (benchmarks/honesty.py), on the fast subset.

What holds today is checked strictly: the corpus is well formed, its references are stable, the classifier
classifies hand-made results as the rule says, no new silently wrong result appears, and numdiff auto has no
silently wrong result on the fast subset, nor does the complex step.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import honesty
import honesty_cases
from honesty import FLAGGED, LOW, OK, SILENT, Reference, classify, digits, reference

from numdiff_cli.errors import ExpressionError
from numdiff_cli.expr import parse_expression

KINDS = {
    "smooth",
    "oscillating",
    "large-values",
    "large-x",
    "derivative-zero",
    "domain-edge",
    "near-pole",
    "tiny-values",
    "cancellation",
    "higher-order",
    "kink",
}


Fast = list[tuple[honesty_cases.Case, np.ndarray, list[Reference]]]


@pytest.fixture(scope="module")
def fast() -> Fast:
    """The fast subset with its references (computed once for the module)."""
    return [(case, xs, honesty.references(case, xs)) for case, xs in honesty.selected(fast=True)]


# ---------------------------------------------------------------------------------------------------------------
# (a) The corpus is well formed


def test_every_case_names_its_source_and_is_well_formed() -> None:
    for case in honesty_cases.CASES:
        assert case.source.strip(), case
        # repository + file (+ test), or a publication with its year
        assert ":" in case.source or any(str(year) in case.source for year in range(1960, 2030)), case.source
        assert 1 <= case.order <= 4, case
        assert case.kind in KINDS, case
        xs = honesty_cases.points(case)
        assert len(xs) > 0 and np.all(np.isfinite(xs)), case
        assert case.length is None or case.length > 0, case


def test_every_case_parses_with_numdiffs_parser() -> None:
    for case in honesty_cases.CASES:
        if case.needs:
            # Cases that need a function the parser does not have yet are skipped by the benchmark until it does.
            try:
                parse_expression(case.expr)
            except ExpressionError:
                assert not honesty.available(case)
            continue
        expression = parse_expression(case.expr)
        assert expression.names == ("x",), case.expr


def test_corpus_size() -> None:
    every = sum(len(honesty_cases.points(c)) for c in honesty_cases.CASES)
    fast = sum(len(xs) for _, xs in honesty.selected(fast=True))
    assert 3000 <= every <= 5000
    assert 200 <= fast <= 1000


def test_sympy_reading_of_the_text_is_numdiffs_function(fast: Fast) -> None:
    """The reference's expression (sympify of the text) and numdiff's compiled function are the same function
    (to 1e-12 times the condition number |x f'(x) / f(x)| of f; not compared where f cancels internally, which is
    what those cases are about)."""
    for case, xs, _ in fast:
        if case.kind == "cancellation":
            continue
        values = honesty.numdiff_compiled(case.expr).function(xs[None])
        f = honesty._lambdified(honesty.sympy_expression(case.expr))
        for x, value in zip(xs, values):
            with mpmath.workdps(30):
                try:
                    exact = honesty._real(f(mpmath.mpf(float(x))))
                except (honesty.NoReference, ZeroDivisionError, ValueError):
                    continue  # outside the real domain or a removable singularity: numdiff gives NaN or a limit
            if math.isfinite(value) and 0 < abs(exact) < 1e300:
                slope = reference(case.expr, 1, float(x)).value
                condition = 1.0 if slope is None else max(1.0, float(abs(x * slope / exact)))
                tolerance = 1e-12 * condition
                assert abs(value - float(exact)) <= tolerance * abs(float(exact)) + 1e-300, (case.expr, x)


def test_references_are_stable_at_50_and_80_digits(fast: Fast) -> None:
    for case, xs, refs in fast:
        for x, ref in zip(xs, refs):
            assert ref.reason != "unstable at 50 vs 80 digits", (case.expr, case.order, x)
            if ref.value is None:
                # only where the derivative does not exist: a kink, a jump, an infinite slope at a domain edge
                assert case.kind in ("kink", "domain-edge"), (case.expr, case.order, x, ref.reason)
            assert ref.scale >= 0 and ref.floor >= 0


def test_reference_values() -> None:
    def value(text: str, order: int, x: float) -> mpmath.mpf:
        result = reference(text, order, x).value
        assert result is not None, (text, order, x)
        return result

    with mpmath.workdps(50):
        assert abs(value("sin(x)", 1, 0.5) - mpmath.cos(0.5)) < mpmath.mpf("1e-45")
        assert abs(value("e**x", 2, 1.0) - mpmath.e) < mpmath.mpf("1e-45")
        assert abs(value("log(x + sqrt(x**2 + 1))", 3, 0.0) + 1) < mpmath.mpf("1e-45")
    # float literals are the double numpy uses, not the decimal
    assert reference("0.1*x", 1, 3.0).value == mpmath.mpf(0.1)
    assert reference("abs(x)", 1, -2.0).value == -1
    assert reference("relu(x) + x**2", 1, 0.5).value == 2
    assert reference("step(x)", 1, 1.0).value == 0
    # the removable singularity takes its limit; no derivative at kinks, jumps and infinite slopes
    limit = reference("x*(0.5 + 1/(exp(x) - 1))", 1, 0.0)
    assert limit.value == 0 and limit.reason == "limit"
    for text in ("abs(x)", "relu(x)", "step(x)", "sign(x)", "cbrt(x)", "sqrt(x)", "sqrt(x**2)"):
        assert reference(text, 1, 0.0).value is None, text


# ---------------------------------------------------------------------------------------------------------------
# (b) The classifier


def _ref(value: float | None, floor: float = 1e-16, scale: float = 1.0) -> Reference:
    return Reference(None if value is None else mpmath.mpf(value), scale, floor, "exact")


def test_classifier_on_hand_made_results() -> None:
    two = _ref(2.0)
    assert classify(2.0, False, two, 1).cls == OK
    assert classify(2.0 * (1 + 1e-11), False, two, 1).cls == OK
    assert classify(2.0 * (1 + 5e-10), False, two, 1).cls == LOW  # 5x the promise
    assert classify(2.0 * (1 + 5e-9), False, two, 1).cls == LOW  # 50x
    assert classify(2.0 * (1 + 5e-8), False, two, 1).cls == SILENT  # 500x
    assert classify(2.001, False, two, 1).cls == SILENT
    assert classify(2.0 * (1 + 5e-10), False, two, 2).cls == LOW  # order 2 promises 1e-11: 50x
    assert classify(2.0 * (1 + 5e-12), False, two, 2).cls == OK
    assert classify(2.0 * (1 + 5e-9), False, two, 4).cls == OK  # order 4 promises 1e-8
    assert classify(2.0 * (1 + 5e-7), False, two, 4).cls == LOW
    # flags
    alarm = classify(2.0, True, two, 1)
    assert alarm.cls == FLAGGED and alarm.false_alarm
    right = classify(2.001, True, two, 1)
    assert right.cls == FLAGGED and not right.false_alarm
    # A false alarm is a flag on a value within the promise of its order: 5e-11 relative is within order 3's 1e-10,
    # 5e-10 is not.
    assert classify(2.0 * (1 + 5e-11), True, two, 3).false_alarm
    assert not classify(2.0 * (1 + 5e-10), True, two, 3).false_alarm
    nan = classify(math.nan, False, two, 1)
    assert nan.cls == FLAGGED and not nan.false_alarm  # a NaN shows itself
    # no derivative: any number without a flag is wrong, a flag is right (never a false alarm)
    assert classify(0.0, False, _ref(None), 1).cls == SILENT
    none = classify(0.0, True, _ref(None), 1)
    assert none.cls == FLAGGED and not none.false_alarm
    # a zero derivative: judged on the conditioning floor
    zero = _ref(0.0, floor=1e-16)
    assert classify(5e-17, False, zero, 1).cls == OK
    assert classify(5e-15, False, zero, 1).cls == LOW
    assert classify(1e-12, False, zero, 1).cls == SILENT
    assert classify(5e-17, True, zero, 1).false_alarm
    assert not classify(1e-12, True, zero, 1).false_alarm


def test_low_and_silent_boundary() -> None:
    two = _ref(2.0)
    allowed = 2.0 * 1e-10
    assert classify(2.0 + 50 * allowed, False, two, 1).cls == LOW
    assert classify(2.0 + 200 * allowed, False, two, 1).cls == SILENT


def test_digits() -> None:
    assert digits(2.0, mpmath.mpf(2), 1e-16) == honesty.CAP
    assert abs(digits(2.0 * (1 + 1e-12), mpmath.mpf(2), 1e-16) - 12) < 0.1
    assert digits(math.inf, mpmath.mpf(2), 1e-16) == 0
    # near a zero of the derivative an error at the floor counts as 10 digits
    assert abs(digits(1e-16, mpmath.mpf(0), 1e-16) - 10) < 1e-9


# ---------------------------------------------------------------------------------------------------------------
# (c) numdiff on the fast subset

# Silently wrong today on the fast subset (expression, order, x). This list may only shrink: a silently wrong
# result that is not in it is a regression.
KNOWN_SILENT: dict[str, set[tuple[str, int, float]]] = {
    "numdiff auto": set(),
    "numdiff complex": set(),
}


def _silent(fast: Fast, method: str) -> list[tuple[str, int, float, float, str]]:
    found = []
    for case, xs, refs in fast:
        for r in honesty.run_case(case, xs, refs, (method,)):
            if r.verdict.cls == SILENT:
                found.append((case.expr, case.order, r.x, r.value, honesty._fmt(r.ref.value)))
    return found


@pytest.mark.parametrize("method", ["numdiff auto", "numdiff complex"])
def test_no_new_silent_wrong_on_fast_subset(fast: Fast, method: str) -> None:
    new = [s for s in _silent(fast, method) if s[:3] not in KNOWN_SILENT[method]]
    assert not new, f"silently wrong results not seen before (expr, order, x, value, reference): {new}"


@pytest.mark.parametrize("method", ["numdiff auto", "numdiff complex"])
def test_no_silent_wrong_on_fast_subset(fast: Fast, method: str) -> None:
    silent = _silent(fast, method)
    assert not silent, f"silently wrong (expr, order, x, value, reference): {silent}"

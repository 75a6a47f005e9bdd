"""The warning "the derivative overflows" only where it does (numerics/adaptive.py: ``richardson_search``).

A steep exponential whose larger steps reach f near the largest double on one side (``exp(-1e6*x)`` at 1e-3: f is
e**-1000 at x and e**709 a step of 1.7e-3 to the left) has difference quotients that overflow on those steps while
f there is finite, though its derivative underflows. Where no candidate was usable, the gradient's wide search
reported the first candidate, -inf, and so "the derivative overflows". Now the quotients must overflow at the
smallest step where f is finite; otherwise the point keeps the difference there (flagged: no reliable estimate).
"""

from __future__ import annotations

import json

import pytest

from numdiff_cli.contract import EXIT_UNVOUCHED

OVERFLOWS = "the derivative overflows"

# (expression, point): derivatives far below the largest double (they underflow), whose larger steps overflow f.
UNDERFLOWING = [
    ("exp(-1e4*x) + y", "0.1,1"),
    ("exp(-1e6*x) + y", "1e-3,1"),
    ("exp(1e6*x) + y", "-1e-3,1"),
    ("exp(-1e8*x) + y", "1e-5,1"),
    ("1e-300*exp(-1e6*x) + y", "3e-4,1"),
]

# (expression, point): derivatives beyond the largest double where f is finite.
OVERFLOWING = [
    ("1e305*exp(1e6*x) + y", "0,1"),
    ("exp(x**2) + y", "26.6,1"),
    ("1e300*exp(1e10*x) + y", "1e-9,1"),
]


@pytest.mark.parametrize(("text", "at"), UNDERFLOWING)
@pytest.mark.parametrize("command", ["grad", "diff"])
def test_a_derivative_that_underflows_is_not_said_to_overflow(run, command: str, text: str, at: str) -> None:
    args = ("grad", text, "--at", at) if command == "grad" else ("diff", text.replace(" + y", ""), "--at", at[:-2])
    result = run(*args, "--format", "json")
    assert result.exit_code in (0, EXIT_UNVOUCHED), result.output
    row = json.loads(result.stdout)
    assert OVERFLOWS not in row.get("warning", ""), row
    values = row["gradient"] if command == "grad" else [row["derivative"]]
    assert None not in values, row
    # The derivative by x is below 1e-420 (it underflows); silent, its value must be 0 at the rounding level of f.
    if result.exit_code == 0:
        assert abs(values[0]) < 1e-290, row


@pytest.mark.parametrize(("text", "at"), OVERFLOWING)
def test_a_derivative_beyond_the_largest_double_is_said_to_overflow(run, text: str, at: str) -> None:
    result = run("grad", text, "--at", at, "--format", "json")
    assert result.exit_code == EXIT_UNVOUCHED, result.output
    assert f"along x: {OVERFLOWS}" in json.loads(result.stdout)["warning"]


def test_the_warning_quotes_an_overflow_as_the_plain_output_prints_it(run) -> None:
    # The plain output prints inf; the warning's numbers said "derivative nan" (a missing value) for it.
    result = run("diff", "exp(x**2)", "--at", "26.6", "--format", "plain")
    assert result.stdout == "inf\n"
    assert f"{OVERFLOWS}: it is larger than the largest double (derivative inf, error nan, " in result.stderr
    grad = run("grad", "exp(x**2) + y", "--at", "26.6,1", "--format", "plain")
    assert "(gradient [inf, " in grad.stderr

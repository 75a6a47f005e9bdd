"""The README's limits of the parser reached exactly and crossed by one, where the walk of the tree counts them:
nesting through each kind of operand, and the 10,000 bits of exact powers.

README (Limits): nesting of "brackets, calls, unary signs, operators": 100 levels, refused with
``nested deeper than 100 levels (column N)``; each change of operator is one level (a chain ``a+b+c`` is one).
Exact integers and powers: 10,000 bits, ``the power is too large to compute``; constants that overflow a double
give ``inf``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import mpmath
import numpy as np
import pytest
import sympy as sp

from numdiff_cli.errors import ExpressionError
from numdiff_cli.expr import parse_expression


@pytest.fixture(autouse=True)
def room_for_mutants() -> Iterator[None]:
    # A mutation run (mutmut, benchmarks/mutation.md) sets MUTANT_UNDER_TEST and calls every function of the
    # parser through two more frames: at 100 levels the walk then passes Python's 1,000. Only there is the limit
    # raised; the suite runs the parser as users do.
    if "MUTANT_UNDER_TEST" not in os.environ:
        yield
        return
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def refusal(text: str) -> str:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    return str(caught.value)


def levels_of_three(count: int) -> str:
    """``(...(y**1*1+0)**1*1+0...)``: each bracket holds a sum, a product and a power, three levels of operators
    around ``y`` for one level of brackets, so that the operators, not the brackets, reach the limit. (Each level is
    ``y`` again once built: the walk of the text nests, sympy's tree does not.)"""
    text = "y"
    for _ in range(count):
        text = f"({text}**1*1+0)"
    return text


# 33 brackets of three levels: y is inside 99 operators. Each wrapper adds one level around it (the operand of a
# sign, the first or a later term of a chain, the base or the exponent of a power, the argument of a call, either
# side of '@'): 100 levels, within the limit.
INNER = levels_of_three(33)
WRAPPERS = {
    "minus": f"-({INNER})",
    "plus": f"+({INNER})",
    "first-term": f"({INNER})*2",
    "later-term": f"2*({INNER})",
    "later-sum-term": f"2-({INNER})",
    "base": f"({INNER})**2",
    "exponent": f"2**({INNER})",
    "argument": f"sin({INNER})",
    "matmul-left": f"({INNER})@x",
    "matmul-right": f"x@({INNER})",
}


@pytest.mark.parametrize("text", WRAPPERS.values(), ids=WRAPPERS.keys())
def test_a_hundred_levels_of_operators_are_within_the_limit_whatever_the_operand(text: str) -> None:
    assert "y" in parse_expression(text).names


@pytest.mark.parametrize("text", WRAPPERS.values(), ids=WRAPPERS.keys())
def test_one_more_level_is_refused_at_the_name_it_encloses(text: str) -> None:
    # A sign around the whole adds the 101st level; the first node past the limit is y, the leftmost one inside
    # the innermost power (its column counted in the text: the index of the only 'y', plus one).
    deeper = f"-({text})"
    column = deeper.index("y") + 1
    reason = f"nested deeper than 100 levels (column {column})"
    assert refusal(deeper) == f"invalid expression {deeper[:57] + '...'!r}: {reason}"


def test_levels_are_counted_by_operators_where_brackets_are_few() -> None:
    # 33 brackets of three levels are 99 levels, 34 are 102: refused, though 34 brackets are far from 100.
    assert parse_expression(levels_of_three(33)).names == ("y",)
    text = levels_of_three(34)
    assert refusal(text) == f"invalid expression {text[:57] + '...'!r}: nested deeper than 100 levels (column 35)"


def test_products_of_arrays_chained_with_at_are_one_level_each() -> None:
    # '@' is not a chain that sympy builds in one go: W@W@...@x nests one product in the next, a level each. 100
    # products put the first W inside 100 levels; 101 are refused at that W (column 1).
    assert parse_expression("W@" * 100 + "x").arrays
    text = "W@" * 101 + "x"
    assert refusal(text) == f"invalid expression {text[:57] + '...'!r}: nested deeper than 100 levels (column 1)"


def test_exact_powers_stop_at_10000_bits() -> None:
    # An integer b**e has floor(e log2 b) + 1 bits: 2**9999 has 10,000 (exact), 2**10000 has 10,001 (refused where
    # it is written: column 3); 3**6309 has 10,000 (e log2 3 = 9999.4) and 3**6310 10,002.
    x = sp.Symbol("x", real=True)
    assert parse_expression("x*2**9999").tree == sp.Integer(2) ** 9999 * x
    assert parse_expression("x*3**6309").tree == sp.Integer(3) ** 6309 * x
    for text in ("x*2**10000", "x*4**5000", "x*3**6310", "x*(-2)**10000"):
        assert refusal(text) == f"invalid expression {text!r}: the power is too large to compute (column 3)", text
    assert refusal("2**10000") == "invalid expression '2**10000': the power is too large to compute (column 1)"
    # 1/2**10000 has a denominator of 10,001 bits: computed in floats instead, where it is 0 (below the smallest
    # double, 2**-1074); 1/2**9999 stays exact.
    assert parse_expression("x + (1/2)**10000").tree == x
    assert parse_expression("x + (1/2)**9999").tree == x + sp.Rational(1, 2**9999)


def test_a_power_with_a_variable_is_exact_while_its_coefficient_fits_in_10000_bits() -> None:
    # (x*2**99)**100 = 2**9900 * x**100: a coefficient of 9,901 bits, exact (the bound of what sympy would compute
    # there, 100 bits of 2**99 times the exponent 100, is 10,000 itself). (x*2**100)**100 would be 2**10000: a float
    # exponent instead (test_parser_whitelist.py).
    x = sp.Symbol("x", real=True)
    assert parse_expression("(x*2**99)**100").tree == sp.Integer(2) ** 9900 * x**100


def test_a_float_power_that_overflows_a_double_is_inf() -> None:
    # 2.5**7000 is about 10**2785: beyond the largest double, so inf (README: constants whose value overflows a
    # double give inf), not an error: a float base is not an exact power.
    value = parse_expression("x*2.5**7000").function(np.array([[1.0]]))
    assert value[0] == np.inf


@pytest.mark.parametrize(("opening", "closing"), [("(", ")"), ("[", "]")])
def test_brackets_alone_are_counted_where_the_text_is_not_an_expression(opening: str, closing: str) -> None:
    # After a '<' the text is no expression the parser's structure pass reads (it stops there); its brackets are
    # still at most 100 deep. 100 are within the limit, and the comparison is what is refused (it starts at column
    # 1); the 101st bracket, at column 4 + 101 = 105, is past it. Brackets that close lower the depth: 60 groups one
    # deep are one level.
    within = "x < " + opening * 100 + "x" + closing * 100
    assert refusal(within) == f"invalid expression {within[:57] + '...'!r}: comparisons are not allowed (column 1)"
    beyond = "x < " + opening * 101 + "x" + closing * 101
    reason = "nested deeper than 100 levels (column 105)"
    assert refusal(beyond) == f"invalid expression {beyond[:57] + '...'!r}: {reason}"
    groups = "x < " + "+".join([opening + "x" + closing] * 60)
    assert refusal(groups) == f"invalid expression {groups[:57] + '...'!r}: comparisons are not allowed (column 1)"


def test_an_odd_power_of_a_negative_number_past_the_exact_bound_keeps_its_sign() -> None:
    # (-10001/10000)**753: 753 log2(10001) = 10005.8, past the 10,000 bits of exact work, so it is computed in
    # floats. An odd power of a negative number is negative: -(1.0001**753) = -1.07820350546630438... (mpmath, 40
    # digits); the even power is positive.
    x = sp.Symbol("x", real=True)
    for exponent, sign in ((753, -1), (754, 1)):
        with mpmath.workdps(40):
            expected = float(sign * (mpmath.mpf(10001) / 10000) ** exponent)
        (coefficient,) = (parse_expression(f"x*(-10001/10000)**{exponent}").tree / x).atoms(sp.Float)
        assert float(coefficient) == pytest.approx(expected, rel=1e-14), exponent


@pytest.mark.parametrize(
    ("text", "column"),
    [
        # One group opened and closed, then 100 deep: 100 at most, within the limit.
        pytest.param("x < (x)+" + "(" * 100 + "x" + ")" * 100, None, id="closed-group-then-100"),
        # Two open, one closed, then 100 more: the 100th of them (at index 8 + 99) is the 101st level: column 108.
        pytest.param("x < ((x)" + "(" * 100 + "x" + ")" * 101, 108, id="two-open-one-closed-then-100"),
        # Letters are not brackets: 101 of them after '<' are no nesting; 101 '(' with a letter after each are, the
        # last at index 4 + 3 * 100: column 305.
        pytest.param("x < " + "+".join(["X"] * 101), None, id="letters"),
        pytest.param("x < " + "(X+" * 101 + "1" + ")" * 101, 305, id="letters-between-brackets"),
    ],
)
def test_brackets_after_the_structure_pass_stops_are_counted_open_minus_closed(text: str, column: int | None) -> None:
    shown = f"invalid expression {text[:57] + '...'!r}"
    if column is None:
        assert refusal(text) == f"{shown}: comparisons are not allowed (column 1)"
    else:
        assert refusal(text) == f"{shown}: nested deeper than 100 levels (column {column})"

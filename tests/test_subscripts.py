"""The array syntax's refusals, each with its message and its column (the subscript's first character), and its
limits reached but not crossed: two indices, a nonzero slice step, whole-number indices within 100,000, the 100
levels of nesting counted through a subscript's value."""

from __future__ import annotations

import pytest
from test_parser_limits import levels_of_three, room_for_mutants  # noqa: F401 (the fixture is autouse here too)

from numdiff_cli.errors import ExpressionError
from numdiff_cli.expr import parse_expression

WHOLE = "indices and slice bounds must be whole numbers, as in x[0], x[1:], W[:, -1]"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sum(W[0,1,2])", "at most two indices (vectors and matrices)"),
        ("sum(x[::0])", "slice step cannot be zero"),
        ("sum(x[1.5])", WHOLE),
        ("sum(x[y])", WHOLE),
        ("sum(x[-y])", WHOLE),
        ("sum(x[+1])", WHOLE),  # a sign other than minus is no part of a whole number here
        ("sum(x[--1])", WHOLE),
        ("sum(x[0:1.5])", WHOLE),
        ("sum(x[100001])", "index larger than 100000"),
        ("sum(x[-100001])", "index larger than 100000"),
    ],
)
def test_each_refusal_says_what_at_the_subscript(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    # The subscript x[...] starts at column 5 of each text (after "sum(").
    assert str(caught.value) == f"invalid expression {text!r}: {reason} (column 5)"


def test_the_largest_index_is_read() -> None:
    # 100,000 is within the limit (the shape check at the point says whether x has that many elements).
    assert parse_expression("sum(x[100000]) + sum(x[-100000])").arrays


def test_a_subscripts_value_is_one_level_deeper() -> None:
    # 32 brackets of three levels put y inside 96 operators; sum's argument (the subscript) is one level, the
    # subscript's value a second: two signs more are 100 levels, three are 101, refused at y.
    inner = levels_of_three(32)
    assert parse_expression(f"sum((-(-({inner})))[0])").arrays
    text = f"sum((-(-(-({inner}))))[0])"
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert str(caught.value).endswith(f"nested deeper than 100 levels (column {text.index('y') + 1})")

"""The parser's whitelist and its messages, case by case: what is refused, with which words and at which column.

Every expected message is written out here, its column counted by hand in the text (1-based, on the user's text,
not on the rewritten one where '^' became '**'); the limits are those of the README's table of limits. Cases that
tests/test_expr.py and tests/test_hostile.py already pin are not repeated.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from numdiff_cli.errors import ExpressionError
from numdiff_cli.expr import parse_expression


def refusal(text: str) -> str:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # The column is that of the node refused, wherever it is in the text: 'foo' starts at column 5.
        pytest.param("x + sin[0]", "'sin' cannot be indexed (column 5)", id="function-indexed"),
        pytest.param("x + pi[0]", "'pi' cannot be indexed (column 5)", id="constant-indexed"),
        pytest.param(
            "x + y[-1]",
            "indices must be non-negative whole numbers, as in x[0] or W[0,1] (column 5)",
            id="negative-index",
        ),
        pytest.param("x + y[100001]", "index larger than 100000 (column 5)", id="index-over-the-limit"),
        # y[100000] is within the index limit; it makes 100001 components, over the 1000 variables.
        pytest.param("y[100000]", "'y' has more than 1000 components", id="index-at-the-limit"),
        # The second y[...] starts at column 12.
        pytest.param(
            "x + y[0] + y[0,1]", "'y' is indexed with different numbers of indices (column 12)", id="rank-mismatch"
        ),
        pytest.param("x + _y[0]", "names starting with '_' are not allowed ('_y') (column 5)", id="underscore-base"),
        pytest.param(
            "x + 2(y)", "implicit multiplication is not supported; write '*' before '(' (column 5)", id="number-call"
        ),
        # 2**9000 is within the 10,000 bits; the product 2**18000 is not. The product starts at column 5.
        pytest.param(
            "x + 2**9000*2**9000",
            "an exact number in the expression exceeds 10000 bits (column 5)",
            id="exact-product-too-large",
        ),
        pytest.param(
            "2**9000*2**9000",
            "an exact number in the expression exceeds 10000 bits (column 1)",
            id="exact-constant-too-large",
        ),
        # A sum is checked term by term: 2**9999 + 2**9999 = 2**10000 has 10001 bits.
        pytest.param(
            "x + 2**9999 + 2**9999",
            "an exact number in the expression exceeds 10000 bits (column 1)",
            id="exact-term-of-a-sum-too-large",
        ),
        # The checks of the text, before it is parsed: the column of the character or of the number.
        pytest.param("x # + 1", "'#' is not allowed (comments are not supported) (column 3)", id="comment"),
        pytest.param("x + \u0436", "character '\u0436' (U+0436) is not allowed; use ASCII (column 5)", id="cyrillic"),
        pytest.param(
            "x + y \u00b72", "character '\u00b7' (U+00B7) is not allowed; write '*' (column 7)", id="middle-dot"
        ),
        pytest.param("x + 2J", "complex numbers are not supported (column 5)", id="complex-capital-j"),
        pytest.param("2j", "complex numbers are not supported (column 1)", id="complex"),
        pytest.param("2X", "implicit multiplication '2X' is not supported; write '2*X' (column 1)", id="capital-x"),
        pytest.param(
            "x + 0X1F", "hexadecimal, octal and binary numbers are not supported (column 5)", id="hex-capital"
        ),
        pytest.param(
            "x + 0O17", "hexadecimal, octal and binary numbers are not supported (column 5)", id="octal-capital"
        ),
        pytest.param("0B101 + x", "hexadecimal, octal and binary numbers are not supported (column 1)", id="binary"),
        pytest.param("x + 1_000", "'_' in numbers is not supported; write 1000 (column 5)", id="digit-separator"),
        pytest.param("x + ~y", "operator '~' is not supported (column 5)", id="invert"),
        pytest.param("x + (not y)", "operator 'not' is not supported (column 6)", id="not"),
        pytest.param("x + y % 2", "operator '%' is not supported (column 5)", id="modulo"),
        # Literals and names the builder refuses, at their column.
        pytest.param("x + True", "'True' is not allowed (column 5)", id="true-literal"),
        pytest.param("x + None", "'None' is not allowed (column 5)", id="none-literal"),
        pytest.param("x + ...", "'Ellipsis' is not allowed (column 5)", id="ellipsis"),
        pytest.param("x + 1e999", "number is too large for double precision (column 5)", id="float-overflow"),
        pytest.param("x + 'a'", "strings are not allowed (column 5)", id="string"),
        pytest.param("x + [1]", "lists are not allowed (column 5)", id="list"),
        pytest.param("x + b'a'", "strings are not allowed (column 5)", id="bytes"),
        pytest.param("x + sin", "'sin' is a function; write sin(...) (column 5)", id="bare-function"),
        pytest.param("x + oo", "'oo' is reserved and cannot be a variable (column 5)", id="reserved"),
        pytest.param(
            "x + os",
            "'os' is the name of a module and cannot be a variable; choose another name, e.g. os_ (column 5)",
            id="module-name",
        ),
        pytest.param(
            "x + match",
            "'match' is a Python keyword and cannot be a variable; choose another name, e.g. match_ (column 5)",
            id="soft-keyword",
        ),
        # Calls: every refusal at the call's column.
        pytest.param("x + y.f(1)", "only the built-in functions can be called (column 5)", id="method-call"),
        pytest.param("x + pi(2)", "'pi' is a constant; write pi*(...) to multiply (column 5)", id="constant-called"),
        pytest.param("x + sin(x=1)", "keyword arguments are not allowed in sin() (column 5)", id="keyword-argument"),
        pytest.param("x + sin(*x)", "starred arguments are not allowed (column 5)", id="starred-argument"),
        pytest.param("x + sin(x, y)", "sin() takes 1 argument, got 2 (column 5)", id="arity"),
        # No column for a problem that has none.
        pytest.param("", "the expression is empty", id="empty"),
        pytest.param("   ", "the expression is empty", id="blank"),
    ],
)
def test_the_builder_names_the_problem_and_its_column(text: str, reason: str) -> None:
    assert refusal(text) == f"invalid expression {text!r}: {reason}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # A Python keyword anywhere: its own message, at its column.
        pytest.param("x + if", "'if' is a Python keyword, not a variable or function (column 5)", id="keyword"),
        # True, False and None are keywords too, but they read as values: the text is missing an operator.
        pytest.param("True x", "missing operator before 'x' (column 6)", id="true"),
        pytest.param("False x", "missing operator before 'x' (column 7)", id="false"),
        pytest.param("None x", "missing operator before 'x' (column 6)", id="none"),
        pytest.param(
            "(x]", "closing parenthesis ']' does not match opening parenthesis '(' (column 3)", id="mismatched"
        ),
        pytest.param("x] ", "unmatched ']' (column 2)", id="unmatched-bracket"),
        # '^' is rewritten '**' before parsing: the column is still the one in the text typed.
        pytest.param("x^2 + (x", "'(' is never closed (column 7)", id="never-closed-after-caret"),
        pytest.param("x^^2", "unexpected '^' (column 3)", id="caret-caret"),
        pytest.param("x + * 2", "unexpected '*' (column 5)", id="operator-after-operator"),
        pytest.param("* x", "unexpected '*' (column 1)", id="operator-first"),
        pytest.param("x ** * 2", "unexpected '*' (column 6)", id="after-power"),
        pytest.param("x ! 2", "unexpected '!' (column 3)", id="unknown-character"),
        pytest.param("x + ** 2", "unexpected '**' (column 5)", id="power-operator"),
        pytest.param("x; y", "unexpected ';' (column 2)", id="semicolon"),
        # The whole token is named, not its first character.
        pytest.param("x 2.5", "missing operator before '2.5' (column 3)", id="number-after-name"),
        pytest.param("x + 2.5 y", "missing operator before 'y' (column 9)", id="name-after-number"),
        pytest.param("x .5", "missing operator before '.5' (column 3)", id="point-number"),
        pytest.param("x _y", "missing operator before '_y' (column 3)", id="underscore-name"),
        # What ends the text before: a name ending in '_', a number ending in '.', ')' and ']'.
        pytest.param("x_ y", "missing operator before 'y' (column 4)", id="after-underscore"),
        pytest.param("1. y", "missing operator before 'y' (column 4)", id="after-point"),
        pytest.param("(x) y", "missing operator before 'y' (column 5)", id="after-parenthesis"),
        pytest.param("x[0] y", "missing operator before 'y' (column 6)", id="after-bracket"),
        # Trailing spaces are not part of the end: the column is just after the '+'.
        pytest.param("x + ", "expression ends after '+' (column 4)", id="ends-with-spaces"),
    ],
)
def test_syntax_errors_name_the_token_and_its_column(text: str, reason: str) -> None:
    assert refusal(text) == f"invalid expression {text!r}: {reason}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # Texts of up to 60 characters are quoted whole, longer ones as their first 57 and '...'.
        pytest.param("x" * 58 + " y", "x" * 58 + " y", id="60-characters"),
        pytest.param("x" * 59 + " y", "x" * 57 + "...", id="61-characters"),
    ],
)
def test_long_texts_are_quoted_shortened(text: str, shown: str) -> None:
    column = len(text)  # the 'y'
    assert refusal(text) == f"invalid expression {shown!r}: missing operator before 'y' (column {column})"


@pytest.mark.parametrize(
    ("text", "start", "hint"),
    [
        # A function of another library whose name differs: the close name is suggested, or the multiplication.
        pytest.param(
            "logcosh(x)", "unknown function 'logcosh'", "; did you mean cosh? or write logcosh*(...) to multiply"
        ),
        pytest.param("x + foo(1)", "unknown function 'foo'", "; or write foo*(...) to multiply"),
        # Not a possible variable either (a module name): no hint at all.
        pytest.param("x + numpy(x)", "unknown function 'numpy'", ""),
    ],
)
def test_unknown_functions_get_their_hint(text: str, start: str, hint: str) -> None:
    message = refusal(text)
    column = text.index(start.split("'")[1]) + 1
    assert message.startswith(f"invalid expression {text!r}: {start}{hint} (functions: abs, acos, ")
    assert message.endswith(f", transpose) (column {column})")


@pytest.mark.parametrize("name", ["arcfoo", "arcsec", "arcsinus", "atan3", "sine", "expo"])
def test_a_suggested_function_is_one_that_exists(name: str) -> None:
    message = refusal(f"{name}(x)")
    if "did you mean " in message:
        suggested = message.split("did you mean ")[1].split("?")[0]
        assert refusal(f"{suggested}(x, x, x, x)").endswith("got 4 (column 1)"), suggested  # it is a function


def test_a_name_of_64_characters_is_a_variable_and_one_of_65_is_not() -> None:
    # The README's limit: a name of up to 64 characters.
    assert parse_expression("x").with_variable("a" * 64).names == ("a" * 64, "x")
    assert parse_expression("a" * 64).names == ("a" * 64,)
    with pytest.raises(ExpressionError) as caught:
        parse_expression("x").with_variable("a" * 65)
    assert str(caught.value) == f"invalid variable name {'a' * 65!r}: it must be a plain name such as x or theta"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("sin", "it is the name of a numpy/sympy object", id="function"),
        pytest.param("print", "it is a Python built-in name", id="builtin"),
        pytest.param("if", "it is a Python keyword", id="keyword"),
        pytest.param("os", "it is the name of a module", id="module"),
        pytest.param("x-y", "it must be a plain name such as x or theta", id="not-a-name"),
    ],
)
def test_a_variable_added_by_name_is_checked_like_one_in_the_text(name: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("x").with_variable(name)
    assert str(caught.value) == f"invalid variable name {name!r}: {reason}"


def test_an_added_variable_takes_its_place_in_the_variable_order() -> None:
    # README: indexed components first, then plain names in natural order (x2 before x10).
    added = parse_expression("x10 * W[0]").with_variable("x2")
    assert added.names == ("W[0]", "x2", "x10")
    assert added.text == "x10 * W[0]"
    assert [symbol.name for symbol in added.symbols] == ["W[0]", "x2", "x10"]
    assert all(symbol.is_real for symbol in added.symbols)
    # An expression with array values stays one.
    assert parse_expression("sum(x)").with_variable("y").arrays is True


def test_reordering_names_the_first_six_missing_variables() -> None:
    expression = parse_expression("p + q + r + s + t + u + v + w")
    with pytest.raises(ExpressionError) as caught:
        expression.reordered(("p",))
    assert str(caught.value) == "--vars must list every variable; missing q, r, s, t, u, v"
    assert expression.reordered(("w", "v", "u", "t", "s", "r", "q", "p")).text == expression.text


def test_indexed_variables_are_real() -> None:
    # d|t|/dt = sign(t) for real t; sympy keeps a derivative of re/im parts for a symbol that may be complex.
    expression = parse_expression("abs(x[0])")
    (symbol,) = expression.symbols
    assert expression.tree.diff(symbol) == sp.sign(symbol)


def test_nesting_up_to_the_limit_is_counted_once_per_level() -> None:
    # 99 levels of '(... + 1)' are within the 100 levels; each level is one, whichever side of the operator.
    left = "x"
    for _ in range(99):
        left = f"({left} + 1)"
    assert sp.simplify(parse_expression(left).tree - (sp.Symbol("x", real=True) + 99)) == 0
    right = "x"
    for _ in range(50):  # '1 + (' counts twice (an operator and a bracket): 50 levels make 100
        right = f"1 + ({right})"
    assert sp.simplify(parse_expression(right).tree - (sp.Symbol("x", real=True) + 50)) == 0


def test_unary_signs_up_to_the_limit_are_one_level_each() -> None:
    # README: 100 levels of nesting, unary signs included; 100 signs are within it (an even number of '-' is +).
    x = sp.Symbol("x", real=True)
    assert parse_expression("-" * 100 + "x").tree == x
    assert parse_expression("+" * 100 + "x").tree == x


def test_the_count_of_numbers_names_and_operations_names_the_one_past_the_limit() -> None:
    # Six parenthesized sums of 500 x's: each is 500 names and 499 additions (999), and 5 additions join them.
    # Counted left to right, the 5 joining additions and the first five sums make 5000; the sixth sum, which
    # starts at its first 'x' (one past its '('), is the 5001st: column 5 * (1001 + 1) + 2 = 5012.
    group = "(" + "+".join(["x"] * 500) + ")"
    assert len(group) == 1001
    text = "+".join([group] * 6)
    assert (
        refusal(text)
        == f"invalid expression {text[:57] + '...'!r}: more than 5000 numbers, names and operations (column 5012)"
    )
    # With sums of 499 x's (997 each) the count passes 5000 inside the sixth sum, at one of its additions; a chain
    # of additions starts at its first 'x': column 5 * (999 + 1) + 2 = 5002.
    group = "(" + "+".join(["x"] * 499) + ")"
    text = "+".join([group] * 6)
    assert (
        refusal(text)
        == f"invalid expression {text[:57] + '...'!r}: more than 5000 numbers, names and operations (column 5002)"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # The README's limits: 100 digits in a number, 64 characters in a name (both start at column 5 here).
        pytest.param("x + 1" + "0" * 100, "number has more than 100 digits (column 5)", id="101-digits"),
        pytest.param("x + " + "a" * 65, "name longer than 64 characters (column 5)", id="65-characters"),
    ],
)
def test_long_literals_and_names_are_refused_at_their_column(text: str, reason: str) -> None:
    assert refusal(text) == f"invalid expression {text[:57] + '...'!r}: {reason}"


def test_limits_are_reached_not_crossed() -> None:
    # 100 digits, and exactly 5000 numbers, names and operations (5 sums of 999, 4 additions and one '-'), pass.
    x = sp.Symbol("x", real=True)
    assert parse_expression("x + 1" + "0" * 99).tree == x + sp.Integer(10) ** 99
    group = "(" + "+".join(["x"] * 500) + ")"
    assert parse_expression("-" + "+".join([group] * 5)).tree == 1500 * x


def test_a_name_both_plain_and_indexed_is_an_array() -> None:
    # README (vectors): x[0] * sum(x) makes x an array whose element x[0] is; not an error.
    expression = parse_expression("x[0] + sum(x)")
    assert expression.arrays and expression.names == ("x",)
    # Without an array function too, whichever comes first: x[0] * x and x * x[1] scale the array x.
    for text in ("x[0] * x", "x * x[1]"):
        expression = parse_expression(text)
        assert expression.arrays and expression.names == ("x",), text


def test_powers_nest_one_level_per_power() -> None:
    # 100 powers to the right, and 99 parenthesized to the left, are within the 100 levels.
    assert parse_expression("x**" * 100 + "x").names == ("x",)
    assert parse_expression("(" * 99 + "x" + "**x)" * 99).names == ("x",)


def test_the_length_limit_is_10000_characters() -> None:
    # README: expressions up to 10,000 characters (spaces count).
    text = "x" + " " * 9997 + "+1"
    assert len(text) == 10_000
    assert parse_expression(text).tree == sp.Symbol("x", real=True) + 1
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text + " ")
    assert str(caught.value) == "invalid expression: too long (10001 characters; the limit is 10000)"


def test_a_constant_that_overflows_a_double_is_infinite() -> None:
    # README: constants whose value overflows a double are computed in floating point: e**(e**(e**5)) is far past
    # 1.8e308, so x + it is +inf at x = 1, and step(it - x) is 1 (the step of a positive number).
    at_one = np.array([[1.0]])
    assert parse_expression("x + E**(E**(E**5))").function(at_one)[0] == np.inf
    assert parse_expression("x * pi**(pi**(pi**5))").function(at_one)[0] == np.inf
    assert parse_expression("step(E**(E**(E**5)) - x)").function(at_one)[0] == 1.0


def test_exact_powers_stay_exact_within_the_bounds_and_go_to_floats_past_them() -> None:
    # README: exact integers and powers up to 10,000 bits; roots exact for numbers up to 256 bits, in floating point
    # above. 3**7000 has 7000 * log2(3) = 11,095 bits: refused, as 9**9**9**9 is.
    x = sp.Symbol("x", real=True)
    assert refusal("3**7000") == "invalid expression '3**7000': the power is too large to compute (column 1)"
    # (3**200)**2 is 3**400 exactly (634 bits): the difference is exactly 0, not a float's rounding of 1e190.
    assert parse_expression("x + (3**200)**2 - 3**400").tree == x
    # 2**255 has 256 bits: its square root is exact, 2**127 * sqrt(2).
    assert parse_expression("x + (2**255)**(1/2) - 2**127*sqrt(2)").tree == x
    # (1/3)**7000 would need 11,095 bits exactly: computed in floating point (it underflows to 0).
    assert parse_expression("x + (1/3)**7000").tree == x
    # A float base is not exact: its power is computed as a float.
    assert parse_expression("2.5**2").tree == sp.Float(6.25)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # An exponent past float64's exact integers keeps its exact parity: (-1)**odd is -1, (-1)**even is 1
        # (2**53 + 1 as a float would be the even 2**53), and 1 to any power is 1.
        pytest.param("(-1)**(2**53+1)", -1, id="minus-one-odd"),
        pytest.param("(-1)**(2**53)", 1, id="minus-one-even"),
        pytest.param("(-1)**(2**64+1)", -1, id="minus-one-odd-past-64-bits"),
        pytest.param("1**(2**60+1)", 1, id="one-odd"),
        # A base of size below 1 to such a power underflows to 0 (sympy's zero has no sign).
        pytest.param("(-1/2)**(2**53+1)", 0, id="minus-half-odd"),
    ],
)
def test_huge_integer_powers_of_small_bases(text: str, value: int) -> None:
    assert float(parse_expression(text).tree) == value


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("x + (-3)**(2**53+1)", id="negative-base-odd-exponent"),
        pytest.param("x + (-3)**(2**53)", id="negative-base-even-exponent"),
        pytest.param("x + 3**7000", id="positive-base"),
    ],
)
def test_a_huge_integer_power_of_a_base_larger_than_one_is_too_large(text: str) -> None:
    # The power starts at column 5.
    assert refusal(text) == f"invalid expression {text!r}: the power is too large to compute (column 5)"


def test_indexed_variables_come_in_natural_order_of_their_names() -> None:
    # As plain names do (x2 before x10): a2[...] before a10[...], then plain names.
    assert parse_expression("a10[0] + a2[1] + b").names == ("a2[0]", "a2[1]", "a10[0]", "b")


@pytest.mark.parametrize(
    "text",
    [
        "(x*2**100)**100",
        "(x/2**100)**100",
        "(x**3/2**100)**100",
        "(sqrt(2)*x/2**100)**102",
        "(x/2)**(10**50)",
        "(3*x)**6000",
    ],
)
def test_powers_with_a_variable_keep_their_exact_numbers_within_10000_bits(text: str) -> None:
    # README: powers with a variable whose coefficients would grow get a float exponent; (x*2**100)**100 written
    # out exactly would hold 2**10000, of 10,001 bits.
    tree = parse_expression(text).tree
    numbers = tree.atoms(sp.Rational)
    assert all(max(abs(n.p), n.q).bit_length() <= 10_000 for n in numbers), text


def test_each_call_and_each_change_of_operator_is_one_level() -> None:
    # 51 nested calls are 51 levels, and so are 26 sums inside products on either side (52 levels): all within
    # the 100. (Kept well below the limit: the mutation run adds a frame to every call of the parser.)
    x = sp.Symbol("x", real=True)
    assert parse_expression("sin(" * 51 + "x" + ")" * 51).names == ("x",)
    left = right = "x"
    for _ in range(26):
        left = f"({left}+1)*2"
        right = f"2*(1+{right})"
    assert parse_expression(left).tree.diff(x) == 2**26
    assert parse_expression(right).tree.diff(x) == 2**26


def test_constant_arguments_that_are_not_finite_are_valued_in_floats() -> None:
    # log(0) = -inf; relu(-inf) = max(0, -inf) = 0; step(pi) = 1, and relu(1) = 1.
    at_one = np.array([[1.0]])
    assert parse_expression("x + log(0)").function(at_one)[0] == -np.inf
    assert parse_expression("x * relu(log(0)) + 1").function(at_one)[0] == 1.0
    assert parse_expression("x + relu(step(pi))").function(at_one)[0] == 2.0


def test_powers_of_a_variable_and_of_constants_with_it() -> None:
    # Without a coefficient to grow, x**(10**6) stays exact; pi is a constant factor like any other.
    x = sp.Symbol("x", real=True)
    assert parse_expression("x**(10**6)").tree == x ** (10**6)
    assert parse_expression("(pi*x)**3").tree == sp.pi**3 * x**3

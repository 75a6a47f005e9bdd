"""The whitelist of code read back from the cache (codegen.check_code), rule by rule: what each rule refuses, and the
code of the same shape that numdiff's printers write, which it must let through.

The cases are written out by hand from the rules in check_code's docstring and the module's: one expression over
the arguments _0, _1, ... and whitelisted names; numbers only as literals (integers within float64's exact range,
2**53); no attribute, subscript, string, lambda or comprehension; 'and', 'or', 'not' and conditional expressions on
conditions only; no integer power of integer constants.
"""

from __future__ import annotations

from typing import Any

import pytest

from numdiff_cli.codegen import NUMPY_NAMES, UnsafeCode, check_code


@pytest.mark.parametrize(
    ("code", "arity"),
    [
        pytest.param("_0 + _1", 2, id="two-arguments"),
        pytest.param("sin(_0)", 1, id="whitelisted-call"),
        pytest.param("select([less(_0, 0), True], [0, 1], default=nan)", 1, id="printer-select"),
        pytest.param("reduce(_0, _0, default=_0)", 1, id="the-one-keyword"),
        # Integers up to float64's exact range are literals the printer writes; 2**53 is the largest.
        pytest.param(str(2**53), 0, id="largest-integer"),
        pytest.param("True", 0, id="boolean-literal"),
        pytest.param("2.5", 0, id="float-literal"),
        pytest.param("less(_0, 0) and greater(_0, -1)", 1, id="and-of-conditions"),
        pytest.param("less(_0, 0) or not greater(_0, -1)", 1, id="or-not-of-conditions"),
        pytest.param("(_0 < 0) and (_0 > -1)", 1, id="and-of-comparisons"),
        pytest.param("not (_0 < 0)", 1, id="not-of-comparison"),
        pytest.param("not True", 0, id="not-of-constant-condition"),
        pytest.param("1.0 if less(_0, 0) else 2.0", 1, id="conditional-on-condition"),
        pytest.param("1.0 if _0 < 0 else 2.0", 1, id="conditional-on-comparison"),
        # Powers with a float or a variable on one side compute in floats: allowed.
        pytest.param("2.0**3", 0, id="float-base-power"),
        pytest.param("_0**2", 1, id="argument-power"),
        pytest.param("2**_0", 1, id="power-of-argument"),
        pytest.param("2**(1/2)", 0, id="power-with-a-division"),
        pytest.param("minimum(_0, 2)**3.0", 1, id="power-of-a-call"),
        pytest.param("0." + "0" * 199_998, 0, id="200000-characters"),
    ],
)
def test_code_of_the_printers_shape_is_let_through(code: str, arity: int) -> None:
    check_code(code, arity, NUMPY_NAMES)


@pytest.mark.parametrize(
    ("code", "arity", "why"),
    [
        pytest.param(None, 0, "code is not a string of bounded length", id="not-a-string"),
        pytest.param(b"_0", 1, "code is not a string of bounded length", id="bytes"),
        pytest.param("0." + "0" * 199_999, 0, "code is not a string of bounded length", id="200001-characters"),
        pytest.param("_0 +", 1, "code does not parse: SyntaxError", id="syntax"),
        pytest.param("_0\x00", 1, "code does not parse: SyntaxError", id="nul"),
        pytest.param("_2", 2, "unknown name '_2'", id="argument-past-the-arity"),
        pytest.param("_0", 0, "unknown name '_0'", id="no-argument"),
        pytest.param("os", 0, "unknown name 'os'", id="unknown-name"),
        pytest.param("_0.real", 1, "Attribute is not allowed", id="attribute"),
        pytest.param("_0[0]", 1, "Subscript is not allowed", id="subscript"),
        pytest.param("{1: 2}", 0, "Dict is not allowed", id="dict"),
        pytest.param("_0(1)", 1, "only whitelisted functions can be called", id="call-an-argument"),
        pytest.param("(sin)(_0)(_0)", 1, "only whitelisted functions can be called", id="call-a-call"),
        # Keywords other than select's default (reduce has no signature, so the arity check lets any through).
        pytest.param("reduce(_0, _0, out=_0)", 1, "keyword 'out' is not allowed", id="keyword"),
        pytest.param("sin(_0, out=_0)", 1, "sin() takes 1 argument(s)", id="keyword-of-a-ufunc"),
        pytest.param("sin(*_0)", 1, "Starred is not allowed", id="starred"),
        pytest.param("reduce(**_0)", 1, "keyword None is not allowed", id="double-starred"),
        pytest.param(str(2**53 + 1), 0, "only numbers are allowed as literals", id="integer-past-2**53"),
        pytest.param("'a'", 0, "only numbers are allowed as literals", id="string"),
        pytest.param("1j", 0, "only numbers are allowed as literals", id="complex"),
        pytest.param("None", 0, "only numbers are allowed as literals", id="none"),
        pytest.param("...", 0, "only numbers are allowed as literals", id="ellipsis"),
        pytest.param("_0 and 1", 1, "'and' and 'or' combine conditions only", id="and-of-numbers"),
        pytest.param("less(_0, 0) or _0", 1, "'and' and 'or' combine conditions only", id="or-with-a-number"),
        pytest.param("not _0", 1, "'not' applies to conditions only", id="not-of-a-number"),
        pytest.param("not sin(_0)", 1, "'not' applies to conditions only", id="not-of-a-call"),
        pytest.param("1 if _0 else 2", 1, "a conditional expression tests a condition only", id="if-on-a-number"),
        pytest.param("sin(_0, _0)", 1, "sin() takes 1 argument(s)", id="ufunc-arity"),
        pytest.param("2**3", 0, "integer powers of integer constants are not allowed", id="integer-power"),
        pytest.param("(-2)**(3)", 0, "integer powers of integer constants are not allowed", id="signed-integers"),
        pytest.param("(1 + 2)**(3*4)", 0, "integer powers of integer constants are not allowed", id="integer-sums"),
        pytest.param("2**(1 if True else 2)", 0, "integer powers of integer constants are not allowed", id="ifexp"),
    ],
)
def test_code_outside_the_whitelist_is_refused_with_its_reason(code: Any, arity: int, why: str) -> None:
    with pytest.raises(UnsafeCode) as caught:
        check_code(code, arity, NUMPY_NAMES)
    assert str(caught.value) == why

"""The pieces below the commands: status words, row mapping, method checks, tangent equations, the Jacobian.

End-to-end behaviour is pinned by test_golden.py; these tests pin the helpers the commands share, each with a
case that tells the helper apart from a plausible wrong version of it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numdiff_cli import engine
from numdiff_cli.cli import inputs, output, words
from numdiff_cli.contract import METHODS, method_refusal
from numdiff_cli.derivatives import gradient_shape, jacobian_of, union_variables
from numdiff_cli.errors import OptionError
from numdiff_cli.expr import parse_expression
from numdiff_cli.points import Chunk
from numdiff_cli.render import describe
from numdiff_cli.tangents import line, plane, signed

# --- status codes -> words ---------------------------------------------------------------------------------------


def test_warning_text_words_the_precision_in_the_dtype() -> None:
    double = words.warning_text(engine.VANISHING_STEP)
    single = words.warning_text(engine.VANISHING_STEP, "float32")
    assert "x + h == x in double precision" in double
    assert single == double.replace("double precision", "float32")
    # A message that does not speak of the precision is the same in every dtype.
    assert words.warning_text(engine.KINK, "float32") == words.warning_text(engine.KINK)


def test_first_warning_is_the_first_entry_in_c_order() -> None:
    ok, nonfinite, kink = engine.OK, engine.NONFINITE, engine.KINK
    one = np.array([ok, kink, nonfinite])
    assert [words.first_warning(one, j) for j in range(3)] == [
        None,
        words.warning_text(kink),
        words.warning_text(nonfinite),
    ]
    # Gradient: entries (variable, point); point 0 has KINK at variable 1 and NONFINITE at variable 2.
    two = np.array([[ok, ok], [kink, ok], [nonfinite, ok]])
    assert words.first_warning(two, 0) == words.warning_text(kink)
    assert words.first_warning(two, 1) is None
    # Hessian: entries (row, column, point); H[0,1] comes before H[1,0].
    three = np.full((2, 2, 1), ok)
    three[1, 0, 0], three[0, 1, 0] = nonfinite, kink
    assert words.first_warning(three, 0) == words.warning_text(kink)


def test_flagged_finds_exactly_the_points_with_a_warning() -> None:
    status = np.array([[0, 0, 1, 0], [0, 7, 2, 0]])
    found = words.flagged(status, lambda j: float(j), "float32")
    assert found == {
        1: (words.warning_text(7, "float32"), 1.0),
        2: (words.warning_text(1, "float32"), 2.0),
    }
    assert words.flagged(np.array([0, 2]), lambda j: j, "float32") == {1: (words.warning_text(2, "float32"), 1)}


def test_mark_bad_maps_an_input_line_to_its_rows() -> None:
    chunk = Chunk(np.zeros((1, 3)), problems={1: "line 2: cannot read 'foo' as a number"})
    block = output.Block.of_rows([{"at": float(j)} for j in range(6)], ["0"] * 6)
    output.mark_bad(chunk, block, per_point=2)
    assert block.bad == {2, 3}
    assert block.warnings == {2: ("line 2: cannot read 'foo' as a number", None), 3: block.warnings[2]}


def test_with_bad_lines_puts_the_unreadable_lines_last() -> None:
    chunk = Chunk(np.zeros((1, 3)), problems={1: "line 2: cannot read 'foo' as a number"})
    rows = [{"expr": "x", "at": 0.0, "h": h} for h in (0.1, 0.01)] + [{"expr": "x", "at": 2.0, "h": 0.1}]
    block = output.with_bad_lines(chunk, rows, ["a", "b", "c"], "x")
    assert block.count == 4 and block.plain() == ["a", "b", "c", "nan"]
    assert block.bad == {3}
    assert block.rows()[3] == {"expr": "x", "warning": "line 2: cannot read 'foo' as a number"}


def test_describe_a_point() -> None:
    assert describe(2.0) == "2.0"
    assert describe({"x": 1.0, "y": float("nan")}) == "x=1.0,y=nan"


# --- method checks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        pytest.param(
            {"analytic": False},
            "--method complex needs an analytic expression; abs, sign, step, relu and similar functions are not"
            " (use --method auto or central)",
            id="not-analytic",
        ),
        pytest.param(
            {"order": 2},
            "--method complex computes first derivatives only; use --order 1 or another method",
            id="order",
        ),
        pytest.param(
            {"order": 2, "order_option": False},
            "--method complex computes first derivatives only; use --method auto or central",
            id="hessian",
        ),
        pytest.param(
            {"dtype": "float32"},
            "--dtype float32 works with --method central, forward, backward or auto (central)",
            id="float32",
        ),
    ],
)
def test_method_refusals(facts: dict, message: str) -> None:
    assert method_refusal("complex", **facts) == message
    with pytest.raises(OptionError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        inputs.check_method("complex", **facts)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "complex"])
def test_finite_differences_are_never_refused(method: str) -> None:
    inputs.check_method(method, order=4, analytic=False, dtype="float32")


# --- tangents --------------------------------------------------------------------------------------------------


def test_tangent_line_equation() -> None:
    assert line(0.35, 0.2, 5.0, "x") == pytest.approx((-0.65, "y = 0.2*x - 0.65"))
    assert line(4.0, 4.0, 2.0, "y")[1] == "f = 4.0*y - 4.0"
    assert line(float("nan"), 1.0, 1.0, "x")[1] == "nan"
    assert signed(0.25) == "+ 0.25" and signed(-0.25) == "- 0.25" and signed(float("nan")) == "+ nan"


def test_tangent_intercept_is_shown_to_the_digits_of_its_terms() -> None:
    # 0.75 - 0.20000000000000012 * 5 = -0.25000000000000067: a slope 1 ulp off leaves 7e-16 in the intercept, below
    # the 15th digit of its terms (0.75 and 1.0000000000000007), though in the 16th of its own.
    intercept, equation = line(0.75, 0.20000000000000012, 5.0, "x")
    assert intercept == 0.75 - 0.20000000000000012 * 5.0
    assert equation == "y = 0.2*x - 0.25"
    # An intercept as large as its terms keeps its 15 digits; one lost entirely in them reads 0.
    assert line(3.0, 0.5, 2.0, "x")[1] == "y = 0.5*x + 2.0"
    assert line(1.0, 1.0000000000000002, 1.0, "x")[1] == "y = 1.0*x + 0.0"


def test_tangent_plane_equation() -> None:
    assert plane(5.0, [2.0, 4.0], [1.0, -2.0], ["x", "y"]) == "z = 5.0 + 2.0*(x - 1.0) + 4.0*(y + 2.0)"
    assert plane(1.0, [1.0, 1.0], [0.0, 0.0], ["z", "x"]).startswith("f = ")
    assert plane(1.0, [1.0, float("inf")], [0.0, 0.0], ["x", "y"]) == "nan"
    # v - a at a = 0 (and -0.0) reads (x - 0.0): the negated zero once printed (x + 0.0).
    assert plane(1.0, [0.0, 2.0], [0.0, -0.0], ["x", "y"]) == "z = 1.0 + 0.0*(x - 0.0) + 2.0*(y - 0.0)"


# --- several expressions ---------------------------------------------------------------------------------------


def test_union_of_variables() -> None:
    expressions = [parse_expression("x[0]*y"), parse_expression("x[2] + b")]
    assert union_variables(expressions, None) == (["x[0]", "x[1]", "x[2]", "b", "y"], {"x": (3,)})
    with pytest.raises(OptionError, match="missing y"):
        union_variables(expressions, ("x[0]", "x[1]", "x[2]", "b"))
    with pytest.raises(OptionError, match="different numbers of indices"):
        union_variables([parse_expression("x[0]"), parse_expression("x[0,1]")], None)


def test_gradient_shape_of_a_matrix_variable() -> None:
    assert gradient_shape(parse_expression("W[0,0]*W[1,1] - W[0,1]*W[1,0]")) == (2, 2)
    assert gradient_shape(parse_expression("W[0,0]*y")) == (2,)


def test_jacobian_status_is_per_entry_in_the_rows_of_x() -> None:
    # f(x, y) = y + sqrt(x), its own variables in the order (x, y), taken from rows (1, 0) of X = (y, x):
    # at x = 0 its x-derivative is not finite; at y = 1e10 the step 1e-30 vanishes next to y. The second function
    # depends on nothing: OK everywhere. (Which of f's warnings a row says is the command's: see test_cli.py.)
    def f(v: np.ndarray) -> np.ndarray:
        return v[1] + np.sqrt(v[0])

    X = np.array([[1e10], [0.0]])
    with np.errstate(all="ignore"):
        result = jacobian_of([f, lambda v: 2 * v[0]], [[1, 0], []], X, method="central", step=1e-30)
    assert result.status.tolist() == [[[engine.VANISHING_STEP], [engine.NONFINITE]], [[engine.OK], [engine.OK]]]
    assert result.error is None  # a central difference has no error estimate
    assert result.value[1].tolist() == [[0.0], [0.0]]  # no variables: a zero row


# The modules below the command line: what the commands call. They must work without click and without the CLI.
# Every module of the package but the command line itself (cli/, its entry point and its completion scripts).
_PACKAGE = Path(__file__).resolve().parent.parent / "numdiff_cli"
LIBRARY = sorted(
    ".".join(path.relative_to(_PACKAGE).with_suffix("").parts).removesuffix(".__init__")
    for path in _PACKAGE.rglob("*.py")
    if path.relative_to(_PACKAGE).parts[0] not in ("cli", "__main__.py", "completion.py", "__init__.py")
)


@pytest.mark.parametrize("module", LIBRARY)
def test_library_modules_import_neither_click_nor_the_cli(module: str) -> None:
    # A fresh interpreter, so that nothing an earlier test imported hides an import.
    found = "sorted(m for m in sys.modules if m == 'click' or m.startswith('numdiff_cli.cli'))"
    code = f"import sys, numdiff_cli.{module}; print({found})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

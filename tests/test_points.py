"""points.py: --at / --range / stdin parsing into (m, k) arrays; unreadable lines kept, never dropped."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from numdiff_cli.errors import PointError
from numdiff_cli.points import parse_point, parse_range, point_chunks, range_chunks, split_top_level, stdin_chunks

XY = ("x", "y")


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        pytest.param("2", ("x",), [2.0], id="number"),
        pytest.param("-1.5", ("x",), [-1.5], id="negative"),
        pytest.param("pi/4", ("x",), [math.pi / 4], id="constant-expression"),
        pytest.param("x=1,y=2", XY, [1.0, 2.0], id="named"),
        pytest.param("y=2, x=1", XY, [1.0, 2.0], id="named-any-order"),
        pytest.param("1,2", XY, [1.0, 2.0], id="positional"),
        pytest.param("1 2", XY, [1.0, 2.0], id="positional-spaces"),
        pytest.param("log(8,2),pi", XY, [3.0, math.pi], id="commas-inside-calls"),
        pytest.param("3,2,1", ("x[0]", "x[1]", "x[2]"), [3.0, 2.0, 1.0], id="vector"),
        pytest.param("[3,2,1]", ("x[0]", "x[1]", "x[2]"), [3.0, 2.0, 1.0], id="vector-list"),
        pytest.param("x[1]=5,x[0]=4", ("x[0]", "x[1]"), [4.0, 5.0], id="named-components"),
    ],
)
def test_parse_point(text: str, names: tuple[str, ...], expected: list[float]) -> None:
    assert parse_point(text, names, {}).tolist() == pytest.approx(expected, rel=1e-15)


def test_matrix_point_fills_row_major() -> None:
    names = ("W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]")
    assert parse_point("[[1,2],[3,4]]", names, {"W": (2, 2)}).tolist() == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(PointError, match="expected a 2x2 array for W, got 1x4"):
        parse_point("[[1,2,3,4]]", names, {"W": (2, 2)})


@pytest.mark.parametrize(
    ("text", "names", "message"),
    [
        pytest.param("foo", ("x",), "cannot read 'foo' as a number", id="garbage"),
        pytest.param("1e999999", ("x",), "is not a finite number", id="overflow"),
        pytest.param("nan", ("x",), "is not a finite number", id="nan"),
        pytest.param("1,2,3", XY, "expected 2 values (x, y), got 3", id="too-many"),
        pytest.param("x=1", XY, "no value for y", id="missing-name"),
        pytest.param("x=1,z=2", XY, "unknown variable 'z'", id="unknown-name"),
        pytest.param("x=1,x=2", XY, "'x' is given twice", id="twice"),
        pytest.param("x=1,2", XY, "mix of 'name=value' and plain values", id="mixed"),
        pytest.param("", ("x",), "empty point", id="empty"),
        pytest.param("[1,", ("x",), "cannot read it as a list of numbers", id="bad-list"),
    ],
)
def test_parse_point_errors(text: str, names: tuple[str, ...], message: str) -> None:
    with pytest.raises(PointError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_point(text, names, {})


def test_split_top_level() -> None:
    assert split_top_level("log(2,10),3,[1,2]") == ["log(2,10)", "3", "[1,2]"]


def test_range_matches_linspace_across_chunk_boundaries() -> None:
    start, stop, num = parse_range("0:pi:1000")
    values = np.concatenate([chunk.values[0] for chunk in range_chunks(start, stop, num, size=64)])
    assert np.array_equal(values, np.linspace(0, math.pi, 1000))
    assert parse_range("2:3:1") == (2.0, 3.0, 1)


@pytest.mark.parametrize("text", ["0:1", "0:1:x", "0:1:0", "a:1:3"])
def test_range_errors(text: str) -> None:
    with pytest.raises(PointError):
        parse_range(text)


def test_stdin_every_line_accounted_for_across_chunks() -> None:
    lines = [str(i) for i in range(10)]
    lines[3] = "foo"
    lines[7] = ""
    chunks = list(stdin_chunks(io.StringIO("\n".join(lines) + "\n"), 1, size=4))
    values = np.concatenate([c.values[0] for c in chunks])
    assert len(values) == 10
    numbers = [n for c in chunks for n in (c.lines or [])]
    assert numbers == list(range(1, 11))
    problems = {c.lines[k]: message for c in chunks for k, message in c.problems.items() if c.lines}
    assert problems == {4: "line 4: cannot read 'foo' as a number", 8: "line 8: empty line"}
    assert np.isnan(values[3]) and np.isnan(values[7])
    assert values[[0, 1, 2, 4, 5, 6, 8, 9]].tolist() == [0, 1, 2, 4, 5, 6, 8, 9]


def test_stdin_multivariate_rows() -> None:
    (chunk,) = stdin_chunks(io.StringIO("1,2\n3 4\n5, 6\n7\n"), 2)
    assert chunk.values[:, :3].tolist() == [[1, 3, 5], [2, 4, 6]]
    assert chunk.problems == {3: "line 4: expected 2 values, got 1"}


def test_point_chunks_keeps_order_and_validates_first() -> None:
    chunks = list(point_chunks(["1", "-", "2"], "5:6:2", ("x",), {}, io.StringIO("3\n4\n")))
    assert np.concatenate([c.values[0] for c in chunks]).tolist() == [1, 3, 4, 2, 5, 6]
    with pytest.raises(PointError):
        point_chunks(["1", "-", "bad"], None, ("x",), {}, io.StringIO("3\n"))
    with pytest.raises(PointError, match="one variable"):
        point_chunks([], "0:1:2", XY, {}, io.StringIO(""))


# Constant points are read by a walk in floats (issue 12): ten stdin lines of 10 KB each went through sympy,
# one expression per line, and took 12-24 s.
LONG_CONSTANT = "+".join(f"({7 * i + 1}/{3 * i + 2})**(1/2)" for i in range(560))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("(1/3)**(1/2)", (1 / 3) ** 0.5, id="root"),
        pytest.param("pi/4", math.pi / 4, id="pi"),
        pytest.param("2^3 - e", 8 - math.e, id="caret"),
        pytest.param("log(10, 2) + sigmoid(0)", math.log(10) / math.log(2) + 0.5, id="functions"),
        pytest.param("-(-3)", 3.0, id="unary"),
    ],
)
def test_float_constants(text: str, expected: float) -> None:
    from numdiff_cli.points import float_constant

    assert float_constant(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "text",
    ["x", "sin**0", "x**0", "1 if 2 else 3", "[1]", "1/0", "log(0)", "(-8)**(1/3)", "1e308*10", "sin(1, 2)"],
)
def test_float_constants_leave_the_rest_to_the_parser(text: str) -> None:
    from numdiff_cli.points import float_constant

    assert float_constant(text) is None


def test_float_constants_agree_with_the_parser() -> None:
    from numdiff_cli.expr import evaluate_constant
    from numdiff_cli.points import float_constant

    for text in [
        "(1/3)**(1/2)",
        "sqrt(2)/2",
        "exp(1)**2",
        "atan(1)*4",
        "cbrt(-8)",
        "1/3+1/3+1/3",
        "+".join(LONG_CONSTANT.split("+")[:60]),
    ]:
        assert float_constant(text) == pytest.approx(evaluate_constant(text), rel=1e-14)


def test_long_constant_lines_do_not_reach_sympy(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from numdiff_cli import expr, points

    def refuse(text: str) -> float:
        raise AssertionError("sympy was asked for a constant that floats can compute")

    monkeypatch.setattr(expr, "evaluate_constant", refuse)
    points._constant.cache_clear()
    lines = "".join(f"{LONG_CONSTANT}+{i}\n" for i in range(10))
    assert len(lines) > 10 * 10_000
    (chunk,) = points.stdin_chunks(io.StringIO(lines), 1)
    assert not chunk.problems
    assert np.allclose(np.diff(chunk.values[0]), 1.0)


@pytest.mark.parametrize(("order", "first"), [(1, 65_536), (2, 16_384), (4, 16_384)])
def test_points_of_higher_orders_come_in_smaller_chunks(monkeypatch, order: int, first: int) -> None:
    # README (second opinion in the complex plane): order 2-4 points are read in chunks of 16,384, not 65,536.
    import io

    from numdiff_cli.cli import inputs
    from numdiff_cli.compiled import compile_text

    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(["1.5"] * 70_000) + "\n"))
    sizes = [
        chunk.values.shape[1] for chunk in inputs.points(compile_text("x**2", use_cache=False), ["-"], None, order)
    ]
    assert sizes[0] == first and sum(sizes) == 70_000

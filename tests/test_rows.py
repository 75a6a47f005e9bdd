"""Which output rows an input line becomes, for every command, and what is said about an unreadable one.

Every expectation here is counted by hand from the command's contract: ``compare --method all`` prints one row per
method (central, forward, backward, complex, auto: 5) for each point, in input order; ``hessian``, ``jacobian``,
``tangent``, ``grad``, ``diff`` and a one-method ``compare`` print one row per point. An unreadable line keeps its
place: its rows carry ``line N: cannot read 'TEXT' as a number`` and no numbers, its message is said once on
stderr however many rows it stands for, and the exit status is 2. At most 20 lines are said on stderr, then one
line counts the rest.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from click.testing import Result
from conftest import json_lines

FOO = "line 2: cannot read 'foo' as a number"
ALL_METHODS = ["central", "forward", "backward", "complex", "auto"]


def test_compare_method_all_marks_the_five_rows_of_the_bad_line(run: Callable[..., Result]) -> None:
    result = run("compare", "x**2", "--at", "-", "--method", "all", "--format", "json", input="1\nfoo\n3\n")
    assert result.exit_code == 2
    rows = json_lines(result.stdout)
    assert len(rows) == 15
    assert [row["method"] for row in rows] == ALL_METHODS * 3
    # Rows 0-4: line 1 (x = 1, d/dx x**2 = 2); rows 5-9: line 2; rows 10-14: line 3 (x = 3, derivative 6).
    assert [row["at"] for row in rows] == [1.0] * 5 + [None] * 5 + [3.0] * 5
    assert [row.get("warning") for row in rows] == [None] * 5 + [FOO] * 5 + [None] * 5
    assert [row["analytic"] for row in rows] == [2.0] * 5 + [None] * 5 + [6.0] * 5
    assert all(row["numeric"] is None for row in rows[5:10])
    # One line on stderr for the one bad line, not one per method.
    assert result.stderr.splitlines() == [f"Error: {FOO}"]


def test_compare_method_all_plain_has_five_lines_per_point(run: Callable[..., Result]) -> None:
    result = run("compare", "x**2", "--at", "-", "--method", "all", input="foo\n2\n")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 10
    # The bad line (line 1) comes first: its 5 rows have no numbers; line 2 (x = 2) has analytic 4.0.
    assert all(line.startswith("nan nan nan") for line in lines[:5])
    assert [line.split()[1] for line in lines[5:]] == ["4.0"] * 5
    assert [line.split()[-1] for line in lines] == ALL_METHODS * 2
    assert result.stderr.splitlines() == ["Error: line 1: cannot read 'foo' as a number"]


@pytest.mark.parametrize(
    ("args", "stdin", "good"),
    [
        # hessian of x**2*y at (1, 2): [[2y, 2x], [2x, 0]] = [[4, 2], [2, 0]]; at (3, 1): [[2, 6], [6, 0]].
        pytest.param(
            ["hessian", "x**2*y"], "1,2\nfoo,1\n3,1\n", ("hessian", [[[4, 2], [2, 0]], [[2, 6], [6, 0]]]), id="hessian"
        ),
        # jacobian of (x*y, x + y): [[y, x], [1, 1]].
        pytest.param(
            ["jacobian", "x*y", "x + y"],
            "1,2\nfoo,1\n3,1\n",
            ("jacobian", [[[2, 1], [1, 1]], [[1, 3], [1, 1]]]),
            id="jacobian",
        ),
        # tangent of x**2 at 1 and 3: slopes 2 and 6.
        pytest.param(["tangent", "x**2"], "1\nfoo\n3\n", ("slope", [2, 6]), id="tangent"),
        # tangent plane of x*y: gradient (y, x).
        pytest.param(["tangent", "x*y"], "1,2\nfoo,1\n3,1\n", ("gradient", [[2, 1], [1, 3]]), id="tangent-plane"),
        pytest.param(["grad", "x*y"], "1,2\nfoo,1\n3,1\n", ("gradient", [[2, 1], [1, 3]]), id="grad"),
        pytest.param(["diff", "x**2"], "1\nfoo\n3\n", ("derivative", [2, 6]), id="diff"),
        pytest.param(["compare", "x**2"], "1\nfoo\n3\n", ("numeric", [2, 6]), id="compare"),
    ],
)
def test_one_row_per_point_and_the_bad_line_in_its_place(
    run: Callable[..., Result], args: list[str], stdin: str, good: tuple[str, list]
) -> None:
    result = run(*args, "--at", "-", "--format", "json", input=stdin)
    assert result.exit_code == 2
    rows = json_lines(result.stdout)
    assert len(rows) == 3
    assert [row.get("warning") for row in rows] == [None, FOO, None]
    key, values = good
    assert np.allclose(rows[0][key], values[0], rtol=1e-9, atol=1e-9)
    assert np.allclose(rows[2][key], values[1], rtol=1e-9, atol=1e-9)
    assert result.stderr.splitlines() == [f"Error: {FOO}"]


def test_sweep_keeps_the_bad_line_as_one_row(run: Callable[..., Result]) -> None:
    args = ("compare", "x**2", "--at", "-", "--sweep", "--sweep-range", "1e-1:1e-2:2", "--format", "json")
    result = run(*args, input="1\nfoo\n")
    assert result.exit_code == 2
    rows = json_lines(result.stdout)
    # The steps 1e-1 and 1e-2 for x = 1 (two rows), then one row for the unreadable line 2.
    assert [row.get("warning") for row in rows] == [None, None, FOO]
    assert result.stderr.splitlines() == [f"Error: {FOO}"]


def test_twenty_lines_on_stderr_then_the_count_of_the_rest(run: Callable[..., Result]) -> None:
    # 25 unreadable lines, each standing for 5 rows: 20 of them said (once each), then "5 more".
    stdin = "".join(f"bad{n}\n" for n in range(1, 26))
    result = run("compare", "x**2", "--at", "-", "--method", "all", "--format", "json", input=stdin)
    assert result.exit_code == 2
    assert len(json_lines(result.stdout)) == 125
    expected = [f"Error: line {n}: cannot read 'bad{n}' as a number" for n in range(1, 21)]
    assert result.stderr.splitlines() == [*expected, "Warning: 5 more warnings not shown"]


def test_warnings_past_twenty_are_counted_not_dropped(run: Callable[..., Result]) -> None:
    # log(x) has no derivative at x <= 0: 23 points, 23 warnings; 20 are shown, the last line counts 3 more.
    points = [str(-n) for n in range(1, 24)]
    result = run("diff", "log(x)", "--at", "-", input="\n".join(points) + "\n")
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 21
    assert all(line.startswith("Warning: log(x) at -") for line in lines[:20])
    assert lines[20] == "Warning: 3 more warnings not shown"
    assert len(result.stdout.splitlines()) == 23


def test_exactly_twenty_warnings_need_no_count(run: Callable[..., Result]) -> None:
    points = [str(-n) for n in range(1, 21)]
    result = run("diff", "log(x)", "--at", "-", input="\n".join(points) + "\n")
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 20 and not any("more warnings" in line for line in lines)


def test_jacobian_row_warnings_are_said_and_set_the_status(run: Callable[..., Result]) -> None:
    # log(x) at x = -1 is outside its domain: the row is flagged, a Warning line names it, the exit status is 3.
    result = run("jacobian", "log(x)", "y", "--at", "-1,2", "--format", "json")
    assert result.exit_code == 3
    (row,) = json_lines(result.stdout)
    assert row["warning"].startswith("along x in log(x): the derivative is not finite here")
    assert result.stderr.startswith(
        "Warning: log(x), y at x=-1.0,y=2.0, method auto: along x in log(x): the derivative is not finite"
    )
    assert len(result.stderr.splitlines()) == 1


def test_sweep_keeps_every_bad_line(run: Callable[..., Result]) -> None:
    args = ("compare", "x**2", "--at", "-", "--sweep", "--sweep-range", "1e-1:1e-2:2", "--format", "json")
    result = run(*args, input="foo\n1\nbar\n")
    assert result.exit_code == 2
    rows = json_lines(result.stdout)
    # Two rows for x = 1 (line 2), then one row for each unreadable line, in input order.
    assert [row.get("warning") for row in rows] == [
        None,
        None,
        "line 1: cannot read 'foo' as a number",
        "line 3: cannot read 'bar' as a number",
    ]
    assert result.stderr.splitlines() == [
        "Error: line 1: cannot read 'foo' as a number",
        "Error: line 3: cannot read 'bar' as a number",
    ]


def test_the_same_warning_is_said_once_but_every_row_keeps_it(run: Callable[..., Result]) -> None:
    result = run("diff", "log(x)", "--at", "-1", "--at", "-1", "--format", "json")
    assert result.exit_code == 3
    rows = json_lines(result.stdout)
    assert len(rows) == 2 and all(row["warning"].startswith("the derivative is not finite") for row in rows)
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["tangent", "x**2", "--at", "1"], id="tangent"),
        pytest.param(["jacobian", "x*y", "--at", "1,2"], id="jacobian"),
        pytest.param(["hessian", "x*y", "--at", "1,2"], id="hessian"),
        pytest.param(["grad", "x*y", "--at", "1,2"], id="grad"),
        pytest.param(["diff", "x**2", "--at", "1"], id="diff"),
    ],
)
def test_a_vanishing_step_is_named_in_double_precision(run: Callable[..., Result], args: list[str]) -> None:
    # h = 1e-300 next to x = 1: 1 + h == 1 in float64, whose name the message gives.
    result = run(*args, "--method", "central", "--h", "1e-300")
    assert result.exit_code == 3
    assert "(x + h == x in double precision)" in result.stderr


def test_past_the_cap_no_row_is_built_for_a_line_that_is_not_said(monkeypatch: pytest.MonkeyPatch) -> None:
    # A million flagged points must not build a million rows to count their warnings: only the 20 said lines
    # build theirs (for the point and the numbers they quote); the other 980 warnings and 1000 failures are counted.
    from numdiff_cli.cli import output

    monkeypatch.setattr(output, "stderr", lambda line: None)
    built: list[int] = []

    def row(index: int) -> dict:
        built.append(index)
        return {"expr": "f", "at": float(index), "method": "auto", "derivative": 1.0}

    block = output.Block(
        1000,
        row,
        lambda: ["1.0"] * 1000,
        {index: ("low accuracy", float(index)) for index in range(1000)},
        failed={index: "too far" for index in range(1000)},
    )
    writer = output.Writer("plain", ["expr"], "f")
    monkeypatch.setattr(output.sys, "stdout", io.StringIO())
    writer.write(block)
    assert writer.warnings == 2000
    assert set(built) <= set(range(10)), sorted(set(built))

"""CI gates: allclose tolerances and verdicts of compare, and ``numdiff check FILE``."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import json_lines

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "checks.toml"
NUMDIFF = str(Path(sys.executable).parent / "numdiff")


def junit_problems(text: str) -> list[str]:
    """The validator .ci/run applies to the JUnit report (a script, not a module of the package)."""
    spec = importlib.util.spec_from_file_location("junit_check", ROOT / ".ci" / "junit_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.problems(text))


# compare: |numeric - analytic| <= atol + rtol * |analytic|, the exit status is the checks' verdict.
@pytest.mark.parametrize(
    ("args", "code"),
    [
        # cos(pi/2) = 6e-17 and auto returns 0.0: rtol alone (bound 0) fails, atol + rtol passes.
        pytest.param(["sin(x)", "--at", "pi/2", "--rtol", "1e-6", "--tol", "1e-12"], 0, id="zero-derivative-atol"),
        pytest.param(["sin(x)", "--at", "pi/2", "--rtol", "1e-6"], 1, id="zero-derivative-rtol-alone"),
        pytest.param(["sin(x)", "--at", "pi/2", "--atol", "1e-12"], 0, id="atol-spelling"),
        # Low-accuracy warnings at ill-conditioned points: the check decides, --strict makes the warning count.
        pytest.param(["log(1 + x**2)", "--at", "3e-6", "--rtol", "1e-6"], 0, id="warning-passes-rtol"),
        pytest.param(["log(1 + x**2)", "--at", "3e-6", "--tol", "1e-6"], 0, id="warning-passes-atol"),
        pytest.param(["log(1 + x**2)", "--at", "3e-6", "--rtol", "1e-6", "--strict"], 3, id="strict"),
        pytest.param(["log(1 + x**2)", "--at", "3e-6"], 3, id="warning-without-tolerance"),
        pytest.param(["sin(x)", "--at", "1"], 0, id="no-tolerance-no-warning"),
        # A failed check wins over a warning.
        pytest.param(["log(1 + x**2)", "--at", "3e-6", "--rtol", "1e-20", "--strict"], 1, id="failure-beats-strict"),
        pytest.param(["log(x)", "--at", "-1", "--atol", "1"], 1, id="not-finite-fails"),
    ],
)
def test_compare_verdicts(run, args: list[str], code: int) -> None:
    assert run("compare", *args).exit_code == code


def test_compare_bound_is_atol_plus_rtol_times_analytic(run) -> None:
    result = run("compare", "exp(x)", "--at", "1", "--atol", "1e-12", "--rtol", "1e-6", "--format", "json")
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    assert row["bound"] == 1e-12 + 1e-6 * row["analytic"]
    assert row["passed"] is True
    assert list(row)[-2:] == ["bound", "passed"]


def test_every_row_of_a_check_carries_passed_and_bound(run) -> None:
    args = ("compare", "sin(x)", "--at", "1", "--at", "2", "--method", "all", "--tol", "1e-10")
    rows = json_lines(run(*args, "--format", "json").stdout)
    assert len(rows) == 10 and all(row["bound"] == 1e-10 for row in rows)
    assert {row["method"]: row["passed"] for row in rows[:5]} == {
        "central": True,
        "forward": False,
        "backward": False,
        "complex": True,
        "auto": True,
    }
    csv = run(*args, "--format", "csv").stdout.splitlines()
    assert csv[0] == "expr,at,analytic_expr,analytic,numeric,abs_error,rel_error,method,h,bound,passed,warning"
    assert len(csv) == 11 and all(",1e-10," in line for line in csv[1:])


def test_failures_name_expression_point_method_and_numbers_once_each(run) -> None:
    result = run("compare", "sin(x)", "--at", "1", "--method", "all", "--tol", "1e-10")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == len(set(lines)) == 2
    assert lines[0] == (
        "FAIL: sin(x) at 1.0, method forward: |numeric - analytic| = 6.91e-09 > bound 1e-10 = atol 1e-10 + rtol 0"
        " * |analytic| (numeric 0.5403022989630699, analytic 0.5403023058681398)"
    )
    assert lines[1].startswith("FAIL: sin(x) at 1.0, method backward: |numeric - analytic| = 8e-09 > bound 1e-10")


def test_warnings_name_expression_point_method_and_numbers(run) -> None:
    result = run("compare", "log(1 + x**2)", "--at", "3e-6", "--tol", "1e-6")
    assert result.exit_code == 0
    assert result.stderr.startswith("Warning: log(1 + x**2) at 3e-06, method auto: low accuracy")
    assert "(numeric 6e-06, analytic 6e-06, abs_error 2.88989e-16, h " in result.stderr
    grad = run("grad", "log(x)*y", "--at", "-1,2")
    assert grad.exit_code == 3
    assert grad.stderr.startswith("Warning: log(x)*y at x=-1.0,y=2.0, method auto: the derivative is not finite")


def test_strict_needs_a_tolerance(run) -> None:
    result = run("compare", "sin(x)", "--at", "1", "--strict")
    assert result.exit_code == 2
    assert "--strict goes with a tolerance check" in result.stderr


# numdiff check FILE
def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "checks.toml"
    path.write_text(textwrap.dedent(text))
    return str(path)


TWO_CHECKS = """\
    [defaults]
    atol = 1e-12

    [[check]]
    name = "cubic"
    expr = "x**3"
    at = [1, 2]
    rtol = 1e-9

    # the forward difference is good to about 1e-8 only
    [[check]]
    name = "forward sine"
    expr = "sin(x)"
    at = ["pi/4"]
    method = "forward"
    """


def test_check_prints_a_line_per_check_and_a_summary(run, tmp_path: Path) -> None:
    path = write(tmp_path, TWO_CHECKS)
    result = run("check", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS cubic: worst error ") and lines[0].endswith(" (2 points)")
    assert lines[1].startswith("FAIL forward sine (1 point): sin(x) at 0.7853981633974483, method forward:")
    assert "> bound 1e-12 = atol 1e-12 + rtol 0 * |analytic|" in lines[1]
    assert lines[2] == "1 passed, 1 failed"
    assert len(lines) == 3
    quiet = run("check", path, "--quiet")
    assert [line[:4] for line in quiet.stdout.splitlines()] == ["FAIL", "1 pa"]


def test_check_example_file_passes(run) -> None:
    result = run("check", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "6 passed, 0 failed"
    assert all(line.startswith("PASS ") for line in result.stdout.splitlines()[:-1])


def test_check_json_is_one_object_per_check(run, tmp_path: Path) -> None:
    result = run("check", write(tmp_path, TWO_CHECKS), "--format", "json")
    assert result.exit_code == 1
    rows = json_lines(result.stdout)
    assert [(row["name"], row["line"], row["passed"]) for row in rows] == [
        ("cubic", 4, True),
        ("forward sine", 11, False),
    ]
    assert list(rows[0]) == ["name", "line", "passed", "what", "points", "worst_error", "bound", "method", "message"]
    assert rows[1]["worst_error"] > rows[1]["bound"] == 1e-12
    assert result.stderr == "1 passed, 1 failed\n"


def test_check_expected_values_gradient_and_hessian(run, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[check]]
        name = "per point"
        expr = "x**2"
        at = [1, 2, 3]
        expected = [2, 4, 6]
        atol = 1e-9

        [[check]]
        name = "gradient"
        expr = "x*y + y**2"
        what = "gradient"
        at = ["1,2"]
        expected = [2, 5]
        rtol = 1e-9

        [[check]]
        name = "hessian"
        expr = "x*y*z"
        what = "hessian"
        at = ["1,2,3"]
        atol = 1e-7

        [[check]]
        name = "wrong expectation"
        expr = "x**2"
        at = [1]
        expected = 3
        atol = 1e-9
        """,
    )
    result = run("check", path, "--format", "json")
    assert result.exit_code == 1
    passed = {row["name"]: row["passed"] for row in json_lines(result.stdout)}
    assert passed == {"per point": True, "gradient": True, "hessian": True, "wrong expectation": False}
    assert "|numeric - expected| = 1 > bound 1e-09" in json_lines(result.stdout)[3]["message"]


def test_check_files_take_array_values_as_at_does(run, tmp_path: Path) -> None:
    # The references are sympy's, of the expressions written out by components; the expectations by hand:
    # grad sum(x**2) = 2x; d/dx0 logsumexp(x) = e/(e + e**2) = 1/(1 + e); Hessian of prod(x) at (1, 2, 3): the
    # products of the other two; sum(softmax(x)) = 1 has a zero gradient; sum(W @ x) is bilinear (Hessian: W's
    # entries against x's, 1 for W[i,j] with x[j]).
    path = write(
        tmp_path,
        """\
        [defaults]
        rtol = 1e-9
        atol = 1e-12

        [[check]]
        name = "gradient of a vector"
        expr = "sum(x**2)"
        what = "gradient"
        at = ["x=[1,2]", "3,4"]

        [[check]]
        name = "by one element"
        expr = "logsumexp(x)"
        wrt = "x[0]"
        at = ["x=[1,2]"]
        expected = 0.2689414213699951

        [[check]]
        name = "hessian of a product"
        expr = "prod(x)"
        what = "hessian"
        at = ["1,2,3"]
        expected = [[0, 3, 2], [3, 0, 1], [2, 1, 0]]

        [[check]]
        name = "zero by cancellation"
        expr = "sum(softmax(x))"
        what = "gradient"
        at = ["x=[1,2]"]

        [[check]]
        name = "matrix and vector"
        expr = "sum(W @ x)"
        what = "hessian"
        at = ["W=[[1,2],[3,4]],x=[1,1]"]
        """,
    )
    result = run("check", path, "--format", "json")
    assert result.exit_code == 0, result.output
    assert all(row["passed"] for row in json_lines(result.stdout)) and len(json_lines(result.stdout)) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '[[check]]\nexpr = "softmax(x)"\nwhat = "gradient"\nat = ["x=[1,2]"]\natol = 1\n',
            "checks.toml:1: check 'check 1': its value has shape (2,); a check needs one number: take sum(...) of it",
            id="vector-value",
        ),
        pytest.param(
            '[[check]]\nexpr = "sum(x)"\nwhat = "gradient"\nat = ["x=[1,2]", "x=[1,2,3]"]\natol = 1\n',
            "checks.toml:1: check 'check 1': --at 'x=[1,2,3]': x has shape (2,), got (3,)",
            id="changed-shape",
        ),
    ],
)
def test_array_values_in_check_files_are_refused_with_file_and_line(
    run, tmp_path: Path, text: str, message: str
) -> None:
    result = run("check", write(tmp_path, text))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('[[check]]\nname = "a"\nexpr = "x"\nat = [1\n', "checks.toml:4: not valid TOML", id="toml"),
        pytest.param(
            '[[check]]\nexpr = "x"\nat = [1]\natol = 1\n\n[[check]]\nexprs = "x"\n',
            "checks.toml:6: unknown key 'exprs' in check 2 (did you mean 'expr'?)",
            id="unknown-key",
        ),
        pytest.param(
            '\n[[check]]\nname = "bad"\nexpr = "sin("\nat = [1]\natol = 1\n',
            "checks.toml:2: check 'bad': invalid expression",
            id="expression",
        ),
        pytest.param('[[check]]\nexpr = "x"\nat = [1]\n', "checks.toml:1: check 1: give a tolerance", id="tolerance"),
        pytest.param(
            '[[check]]\nexpr = "x"\nat = [1, 2]\natol = 1\nexpected = [1, 2, 3]\n',
            "expected must be a number (for every point) or a list of 2 of them",
            id="expected-shape",
        ),
        pytest.param(
            '[[check]]\nexpr = "x*y"\nat = ["1,2"]\natol = 1\nwrt = "z"\n',
            "z does not occur in the expression",
            id="wrt",
        ),
        pytest.param('title = "x"\n', "checks.toml:1: unknown table 'title'", id="unknown-table"),
    ],
)
def test_malformed_check_file_is_one_line_with_file_and_line(run, tmp_path: Path, text: str, message: str) -> None:
    result = run("check", write(tmp_path, text))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_missing_check_file(run, tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "none.toml"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'none.toml'}: cannot read the check file: No such file or directory\n"


def test_junit_report(run, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    result = run("check", write(tmp_path, TWO_CHECKS), "--junit", str(report))
    assert result.exit_code == 1
    text = report.read_text()
    assert junit_problems(text) == []
    root = ElementTree.fromstring(text)
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    cases = root.findall("testsuite/testcase")
    assert [case.get("name") for case in cases] == ["cubic", "forward sine"]
    assert [case.get("line") for case in cases] == ["4", "11"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and "> bound 1e-12" in failure.get("message", "")


def test_junit_validator_finds_what_is_missing() -> None:
    # The validator must be able to fail: each broken report is refused with a reason.
    assert junit_problems("<testsuite/>") == ["the root element is <testsuite>, not <testsuites>"]
    assert "<testsuites> has no <testsuite>" in junit_problems('<testsuites tests="0" failures="0"/>')
    broken = '<testsuites tests="1" failures="1"><testsuite name="s" tests="1" failures="1"><testcase name="a"/>'
    assert junit_problems(broken + "</testsuite></testsuites>") == [
        "<testcase> needs classname=",
        "<testsuite> says failures=1 but 0 test cases failed",
    ]


def test_github_annotations_point_at_the_check_line(run, tmp_path: Path) -> None:
    path = write(tmp_path, TWO_CHECKS)
    result = run("check", path, "--quiet", env={"GITHUB_ACTIONS": "true"})
    (annotation,) = [line for line in result.stdout.splitlines() if line.startswith("::")]
    escaped = path.replace(":", "%3A").replace(",", "%2C")
    assert annotation.startswith(f"::error file={escaped},line=11,title=numdiff check forward sine::sin(x) at ")
    plain = run("check", path, "--quiet", env={"GITHUB_ACTIONS": "false"})
    assert "::error" not in plain.stdout
    assert "::error" in run("check", path, "--annotations", "github").stdout


def test_check_strict_counts_warnings(run, tmp_path: Path) -> None:
    path = write(tmp_path, '[[check]]\nname = "s"\nexpr = "log(1 + x**2)"\nat = [3e-6]\nrtol = 1e-6\n')
    loose = run("check", path)
    assert loose.exit_code == 0
    assert loose.stderr.startswith("Warning: s: log(1 + x**2) at 3e-06, method auto: low accuracy")
    assert run("check", path, "--strict").exit_code == 3


def test_ci_runs_the_example_checks_before_the_test_command() -> None:
    lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert lines[-1] == 'python -m pip install -q ".[test]" && python -m pytest -q'
    check = next(i for i, line in enumerate(lines) if "check examples/checks.toml --junit" in line)
    validate = next(i for i, line in enumerate(lines) if ".ci/junit_check.py" in line)
    assert check < validate < len(lines) - 1


def test_installed_command_writes_a_valid_junit_report(tmp_path: Path) -> None:
    # What .ci/run does, through the installed console script in a real process.
    report = tmp_path / "report.xml"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [NUMDIFF, "check", str(EXAMPLE), "--junit", str(report)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "junit_check.py"), str(report), "--failures", "0", "--tests", "6"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_check_quiet_json_has_only_the_failures(run, tmp_path: Path) -> None:
    result = run("check", write(tmp_path, TWO_CHECKS), "--format", "json", "--quiet")
    assert result.exit_code == 1
    assert [row["name"] for row in json_lines(result.stdout)] == ["forward sine"]
    assert result.stderr == "1 passed, 1 failed\n"


def test_method_all_plain_lines_name_their_method(run) -> None:
    result = run("compare", "sin(x)", "--at", "1", "--method", "all", "--format", "plain")
    assert result.exit_code == 0
    assert [line.split()[-1] for line in result.stdout.splitlines()] == [
        "central",
        "forward",
        "backward",
        "complex",
        "auto",
    ]
    single = run("compare", "sin(x)", "--at", "1", "--format", "plain").stdout
    assert len(single.split()) == 3  # one method: the three fields of the contract

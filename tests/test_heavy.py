"""Heavy but legal input, at and just under every documented limit, for every command: bounded (issue 12).

Each case runs the installed command as a real process under a budget of :data:`SECONDS` seconds of CPU time
(``RLIMIT_CPU``: the kernel stops the process past it, whatever the load of the machine) and :data:`MEMORY` bytes of
address space (``RLIMIT_AS``), with a wall-clock timeout for what waits without computing (a blocked read); it
must end with exit status 0, 1 or 2, at most one line of stderr per problem (one per point at most, plus one), and
never an internal error or a traceback. The budget is a bound, not a benchmark: every case takes well under two
seconds here; before the fixes some ran for minutes or died of a MemoryError. Cases run two at a time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from numdiff_cli import contract

resource = pytest.importorskip("resource")  # Unix: the memory budget needs setrlimit

# The documented exit statuses: 0, 1 (a check failed), 2 (refused), and the status of a result the engine cannot
# vouch for where the contract has one of its own.
STATUSES = (0, 1, 2, getattr(contract, "EXIT_UNVOUCHED", 1))
SECONDS = 5
MEMORY = 500 * 1024 * 1024
WALL_SECONDS = 60

LONG_SUM = "+".join(f"x**{i}" for i in range(1, 1000))  # 999 operations + 999 powers: under 1,000 chained
DEEP = "sin(" * 99 + "x" + ")" * 99  # nested 100 levels
CHAIN = "+".join(["x"] * 1000)  # 999 operations chained
NODES = "+".join("(" + "+".join(["x"] * 800) + ")" for _ in range(3))  # near 5,000 nodes (x, +, x, ...)
NAMES = "+".join(f"v{i}" for i in range(1000))  # 1,000 variables
VECTOR = "+".join(f"x[{i}]**2" for i in range(0, 1000, 10)) + "+x[999]"  # 1,000 components
LONG_TEXT = "+".join(f"sin({i}*x)" for i in range(1, 1200))[:9_990].rpartition("+")[0]  # under 10,000 characters
FIELD = "+".join(f"sin({i}*x*y)" for i in range(1, 1200))[:7_000].rpartition("+")[0]  # near 5,000 nodes, --field
ROW = ",".join(str(0.5 + (i % 7) / 10) for i in range(1000))
CONSTANT_LINE = "+".join(f"({7 * i + 1}/{3 * i + 2})**(1/2)" for i in range(560))  # about 10 KB
BIG_POWER = "x**(2**9999)"
TEN = ["--at", "0.5", "--at", "0.6", "--at", "0.7", "--at", "0.8", "--at", "0.9"] * 2  # tangent --plot: 10 at most
PICTURES = tempfile.mkdtemp(prefix="numdiff-heavy-")


def picture(name: str) -> str:
    return os.path.join(PICTURES, name)


def checks_file(name: str, body: str) -> str:
    path = os.path.join(PICTURES, name)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(body)
    return path


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    stdin: str = ""
    points: int = 1  # the number of points: at most one stderr line each, plus one


def case(*args: str, stdin: str = "", points: int = 1, id: str) -> object:
    return pytest.param(Case(args, stdin, points), id=id)


CASES = [
    # The parser's limits, each command.
    case("diff", LONG_SUM, "--at", "0.5", id="diff-long-sum"),
    case("diff", LONG_SUM, "--at", "0.5", "--order", "4", id="diff-long-sum-order-4"),
    case("grad", LONG_SUM, "--at", "0.5", id="grad-long-sum"),
    case("tangent", LONG_SUM, "--at", "0.5", id="tangent-long-sum"),
    case("compare", LONG_SUM, "--at", "0.5", id="compare-long-sum"),
    case("compare", LONG_SUM, "--at", "0.5", "--order", "4", "--method", "all", id="compare-long-sum-all"),
    case("diff", LONG_SUM, "--at", "0.5", "--explain", id="explain-long-sum"),
    case("diff", DEEP, "--at", "1", id="diff-deep"),
    case("compare", DEEP, "--at", "1", "--order", "4", id="compare-deep-order-4"),
    case("diff", DEEP, "--at", "1", "--order", "4", "--explain", "--method", "central", id="explain-deep"),
    case("diff", CHAIN, "--at", "1", id="diff-chain"),
    case("compare", NODES, "--at", "1", id="compare-nodes"),
    case("diff", LONG_TEXT, "--at", "1", id="diff-long-text"),
    case("compare", LONG_TEXT, "--at", "1", "--order", "2", id="compare-long-text"),
    case("grad", NAMES, "--at", ROW, id="grad-1000-variables"),
    case("grad", VECTOR, "--at", ROW, id="grad-1000-components"),
    case("tangent", NAMES, "--at", ROW, id="tangent-1000-variables"),
    case("diff", NAMES, "--wrt", "v999", "--at", ROW, id="diff-1000-variables"),
    case("jacobian", NAMES, NAMES.replace("+", "*", 10), "--at", ROW, id="jacobian-1000-variables"),
    case("hessian", "x[0]*x[299]**2", "--at", ",".join(["0.5"] * 300), id="hessian-300"),
    case(
        "hessian", "+".join(f"x[{i}]*x[{i + 1}]" for i in range(99)), "--at", ",".join(["0.5"] * 100), id="hessian-100"
    ),
    case("descend", NAMES, "--from", ROW, "--steps", "20", id="descend-1000-variables"),
    case("descend", "x**2", "--from", "1", "--steps", "5000", "--gtol", "0", id="descend-many-steps"),
    case(
        "descend", "x0**2+x1**2", "--from", "1,1", "--steps", "300", "--trace", "--format", "json", id="descend-trace"
    ),
    # At the largest --steps (1,000,000), and the largest number of variables: refused at the deadline or done.
    # (tests/test_bounded.py runs descend at 1,000,000 steps and a full chunk of the 999-term sum, with their
    # messages.)
    case(
        "descend",
        "x**2",
        "--from",
        "1",
        "--lr",
        "1e-12",
        "--steps",
        "1000000",
        "--gtol",
        "0",
        "--trace",
        id="descend-max-steps-trace",
    ),
    case(
        "descend",
        "x**2+y**2",
        "--from",
        "1,1",
        "--lr",
        "1e-12",
        "--steps",
        "1000000",
        "--gtol",
        "0",
        "--plot",
        picture("descend.png"),
        id="descend-max-steps-plot",
    ),
    case("hessian", "x[0]*x[999]**2", "--at", ",".join(["0.5"] * 1000), "--format", "json", id="hessian-1000"),
    case("hessian", NAMES, "--at", ROW, id="hessian-1000-variables-all-read"),
    case("hessian", LONG_SUM, "--at", "-", stdin="0.5\n" * 1000, points=1000, id="hessian-long-sum-stdin"),
    case("jacobian", *[NAMES] * 10, "--at", ROW, id="jacobian-10-by-1000"),
    case("grad", NAMES, "--at", "-", stdin=(ROW + "\n") * 200, points=200, id="grad-1000-values-per-line"),
    case("tangent", LONG_SUM, *TEN, "--plot", picture("tangent.png"), points=10, id="tangent-plot-long-sum"),
    case("grad", FIELD, "--field", "--format", "json", points=225, id="grad-field-long-text"),
    case("grad", FIELD, "--field", "--plot", picture("field.png"), id="grad-field-plot"),
    case(
        "compare",
        "sin(x)",
        "--range",
        "0:1:2000",
        "--sweep",
        "--sweep-range",
        "1e-1:1e-16:1000",
        points=2000,
        id="sweep-1000-steps-2000-points",
    ),
    case("compare", LONG_TEXT, "--at", "1", "--sweep", "--method", "all", id="sweep-long-text-all-methods"),
    case(
        "check",
        checks_file(
            "heavy.toml",
            '[defaults]\nrtol = 1e-6\n[[check]]\nexpr = "x[0]*x[299]**2"\nat = ["'
            + ",".join(["0.5"] * 300)
            + '"]\nwhat = "hessian"\n'
            '[[check]]\nexpr = "sin(x)"\nrange = "0:1:65536"\n'
            f'[[check]]\nexpr = "{LONG_SUM}"\nrange = "0:1:1000"\n',
        ),
        points=3,
        id="check-heavy-file",
    ),
    # Numbers at the edges.
    case("diff", "x**(2**9999)", "--at", "1.5", id="diff-big-power"),
    case("compare", BIG_POWER, "--at", "1.5", id="compare-big-power"),
    case("diff", BIG_POWER, "--at", "1.5", "--explain", id="explain-big-power"),
    case("compare", "exp(exp(exp(exp(exp(x)))))", "--at", "1", id="compare-exp-tower"),
    case("compare", "sin(exp(x))", "--at", "1e7", id="compare-sin-exp"),
    case("compare", "sin(exp(x))", "--at", "700", id="compare-sin-exp-700"),
    case("compare", "sin(x)", "--at", "1e308", "--at", "-1e308", "--at", "5e-324", points=3, id="compare-extremes"),
    case("compare", "relu(sign(x)+sign(x-1)+sign(x-2)+sign(x-3)+sign(x-4))", "--at", "1.5", id="compare-relu-signs"),
    case("compare", "x**x**x**x**x**x**x**x**x**x**x**x", "--at", "1", "--order", "4", id="compare-power-tower"),
    case("compare", "*".join(f"sin({i}*x)" for i in range(1, 90)), "--at", "1", "--order", "4", id="compare-product"),
    case("compare", "exp(" * 99 + "x" + ")" * 99, "--at", "1", "--order", "4", id="compare-nested-exp"),
    case("diff", "exp(" * 99 + "x" + ")" * 99, "--at", "1", "--explain", id="explain-nested-exp"),
    case("compare", "sin(x)", "--at", "1", "--sweep", "--sweep-range", "1e308:1e-308", id="sweep-all-decades"),
    case("compare", "sin(x)", "--at", "1", "--sweep", "--sweep-range", "1e-1:1e-16:1000", id="sweep-1000-steps"),
    case("compare", "sin(x)", "--at", "1", "--sweep", "--method", "central", "--dtype", "float32", id="sweep-float32"),
    # Many points, long lines.
    case("diff", "sin(x)*exp(-x**2)", "--range", "-5:5:130000", points=130_000, id="diff-two-chunks-of-points"),
    case("grad", "x*y+sin(x)", "--at", "-", stdin="1 2\n" * 100_000, points=100_000, id="grad-100000-lines"),
    case("compare", "sin(x)", "--range", "0:1:2000", "--format", "json", points=2000, id="compare-2000-points"),
    case("diff", "x**2", "--at", "-", stdin=(CONSTANT_LINE + "\n") * 10, points=10, id="stdin-constant-lines"),
    case("diff", "x**2", "--at", "-", stdin=("0." + "1" * 99_997 + "\n") * 5, points=5, id="stdin-long-numbers"),
    case("diff", "x**2", "--at", "-", stdin=("(" * 31 + "1" + ")" * 31 + "\n") * 100, points=100, id="stdin-nested"),
    case("diff", "x**2", "--at", "-", stdin="x" * 2_000_000, points=1, id="stdin-one-huge-line"),
    case("grad", "W[0,0]*W[30,30]", "--at", "[" + ",".join(["[" + ",".join(["1"] * 31) + "]"] * 31) + "]", id="matrix"),
    case("diff", "x", "--at", "[" * 32 + "1" + "]" * 32, id="nested-list-point"),
]


def _budget() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (SECONDS, SECONDS))


def _run(item: Case) -> tuple[int | None, str, float]:
    env = {**os.environ, "NUMDIFF_NO_CACHE": "1"}
    start = time.monotonic()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "numdiff_cli", *item.args],
            input=item.stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=WALL_SECONDS,
            env=env,
            preexec_fn=_budget,
        )
    except subprocess.TimeoutExpired:
        return None, "", time.monotonic() - start
    return process.returncode, process.stderr, time.monotonic() - start


@pytest.fixture(scope="module")
def outcomes() -> dict[Case, tuple[int | None, str, float]]:
    """Every case run once, two at a time (the machines this runs on have two cores or more)."""
    cases = [param.values[0] for param in CASES]  # type: ignore[attr-defined]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(cases, pool.map(_run, cases)))


@pytest.mark.parametrize("item", CASES)
def test_heavy_input_is_bounded(outcomes: dict[Case, tuple[int | None, str, float]], item: Case) -> None:
    status, stderr, seconds = outcomes[item]
    assert status is not None, f"still running after {WALL_SECONDS} s (blocked?)"
    assert status != -signal.SIGXCPU and status != -signal.SIGKILL, f"used more than {SECONDS} s of CPU time"
    assert status in STATUSES, f"exit {status} after {seconds:.1f} s: {stderr}"
    assert "internal error" not in stderr and "Traceback" not in stderr and "MemoryError" not in stderr
    assert len(stderr.splitlines()) <= item.points + 1, stderr[:2000]

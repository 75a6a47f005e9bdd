"""The honesty corpus: derivative cases taken from peers' published tests and docs, as data.

Each :class:`Case` is one expression (text in numdiff's expression syntax), one derivative order and a set of
points. ``source`` names where the mathematical case comes from (repository + file + test name, or paper); only
the mathematical case (function, point, order) is taken, never code. Where a source tests a function at one
or a few points, the corpus often adds more points of the same function (``extended`` in ``source`` says so),
because the question here is whether a result is honest, not whether one quoted value is reproduced.

Points are floats or generator specs: ``("linspace", a, b, n)``, ``("logspace", a, b, n)`` (base 10),
``("arange", a, b, step)``; :func:`points` expands them (each point is the float64 the spec produces, and the
references are computed at that exact float).

``needs`` lists functions the parser does not have yet (none today): such cases are skipped until they parse.
``length`` is the length scale over which f varies (default ``max(|x|, 1)``; given for
oscillating, fast-growing and fast-decaying functions), used only for the scale of the derivative and the
conditioning floor of a result whose true derivative is about 0 (see benchmarks/honesty.py). ``fast``
cases keep all their points in the fast subset; the others contribute at most :data:`FAST_PER_CASE` points.

This file is trusted benchmark data: benchmarks/honesty.py builds sympy expressions from these texts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

FAST_PER_CASE = 3

# Sources (repository + file + test, or publication). Kept as constants so that every case names one.
SCIPY_DOC = "scipy/scipy scipy/differentiate/_differentiate.py: derivative docstring Examples"
SCIPY_SPECIAL = "scipy/scipy scipy/differentiate/tests/test_differentiate.py: TestDerivative.test_special_cases"
SCIPY_SADDLE = "scipy/scipy scipy/differentiate/tests/test_differentiate.py: TestDerivative.test_saddle_gh18811"
SCIPY_SHAPE = "scipy/scipy scipy/differentiate/tests/test_differentiate.py: TestDerivative.test_preserve_shape"
SCIPY_DIRECTION = "scipy/scipy scipy/differentiate/tests/test_differentiate.py: TestDerivative.test_step_direction"
SCIPY_ARGS = (
    "scipy/scipy scipy/differentiate/tests/test_differentiate.py: TestDerivative.test_vectorized_step_direction_args"
)
SCIPY_DTYPE = "scipy/scipy scipy/differentiate/tests/test_differentiate.py: TestDerivative.test_dtype"
SCIPY_STEP = "scipy/scipy scipy/differentiate/tests/test_differentiate.py: TestDerivative.test_initial_step"
SCIPY_JACOBIAN = "scipy/scipy scipy/differentiate/tests/test_differentiate.py: TestJacobian.test_examples (f2 slice)"

NDT_EXAMPLES = (
    "pbrod/numdifftools src/numdifftools/tests/test_example_functions.py: test_high_order_derivative "
    "(functions of numdifftools/example_functions.py at x=0.5)"
)
NDT_COS_X = "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestDerivative.test_derivative_of_cos_x"
NDT_COS_HIGH = (
    "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestDerivative.test_high_order_derivative_cos"
)
NDT_PARAMS = (
    "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestDerivative.test_fun_with_additional_parameters"
)
NDT_CUBE = "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestDerivative.test_derivative_cube"
NDT_EXP = "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestDerivative.test_derivative_exp"
NDT_DOC = "pbrod/numdifftools src/numdifftools/core.py: Derivative docstring Examples"
NDT_SIN = "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestDerivative.test_derivative_sin"
NDT_SINH = (
    "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestDerivative.test_backward_derivative_on_sinh"
)
NDT_LOG = (
    "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: "
    "TestDerivative.test_central_and_forward_derivative_on_log"
)
NDT_VECTOR = "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestJacobian.test_scalar_to_vector"
NDT_SCALAR = (
    "pbrod/numdifftools src/numdifftools/tests/test_numdifftools.py: TestJacobian.test_on_scalar_function (x slice)"
)

FINDIFF_1D = "maroba/findiff test/test_findiff.py: FinDiffTest.test_partial_diff_1d"
FINDIFF_SIN = "maroba/findiff test/test_findiff.py: FinDiffTest.test_partial_diff"
FINDIFF_NONUNIFORM = "maroba/findiff test/test_findiff.py: TestFinDiffNonUniform.test_1d_different_accs"
FINDIFF_LINCOMB = "maroba/findiff test/test_findiff.py: TestFinDiffNonUniform.test_1d_linear_combination"
FINDIFF_STENCIL = "maroba/findiff test/test_findiff.py: FinDiffTest.test_local_stencil_single_axis_center_1d"
FINDIFF_MATRIX = "maroba/findiff test/test_findiff.py: FinDiffTest.test_matrix_1d"
FINDIFF_DX = "maroba/findiff test/test_diff.py: DiffTest.test_partial_d_dx / test_partial_d2_dx2"
FINDIFF_SINSIN = "maroba/findiff test/test_diff.py: DiffTest.test_partial_d2_dxdy / test_add_two_diffs (x slice)"

COMPLEX_STEP = (
    "Squire & Trapp 1998, SIAM Review 40(1) 110-112; Martins, Sturdza & Alonso 2003, ACM TOMS 29(3) 245-262 "
    "(test function of Lyness & Moler 1967) at x=1.5"
)
RIDDERS_MIR = (
    "libmir/mir-algorithm source/mir/numeric.d: unittest of diff (Ridders' method with the Numerical Recipes "
    "stopping rule) at x=1.0"
)
RIDDERS_NM = "nm.dev: Ridders class documentation example (NM Dev library; log at 0.5, orders 1-9)"

ISSUE = "numdiff issue: hard classes named in the issue (not from a peer)"


@dataclass(frozen=True)
class Case:
    source: str
    expr: str
    points: tuple[float | tuple, ...]
    order: int = 1
    kind: str = "smooth"  # class of difficulty, for grouping results
    needs: tuple[str, ...] = ()
    length: float | None = None
    fast: bool = False
    meta: dict = field(default_factory=dict, compare=False)


def points(case: Case) -> np.ndarray:
    """The case's points as float64, in order, without duplicates."""
    out: list[float] = []
    for item in case.points:
        if isinstance(item, tuple):
            kind, *args = item
            if kind == "linspace":
                values = np.linspace(args[0], args[1], int(args[2]))
            elif kind == "logspace":
                values = np.logspace(args[0], args[1], int(args[2]))
            elif kind == "arange":
                values = np.arange(args[0], args[1], args[2])
            else:
                raise ValueError(f"unknown point spec {kind!r}")
            out.extend(float(v) for v in values)
        else:
            out.append(float(item))
    return np.array(list(dict.fromkeys(out)), dtype=float)


def fast_points(case: Case) -> np.ndarray:
    """The case's points in the fast subset: all of them for ``fast`` cases, else at most FAST_PER_CASE."""
    every = points(case)
    if case.fast or len(every) <= FAST_PER_CASE:
        return every
    index = np.unique(np.linspace(0, len(every) - 1, FAST_PER_CASE).round().astype(int))
    return every[index]


def _many(source: str, exprs: Iterable[str], pts: tuple, orders: Iterable[int] = (1,), **kw: object) -> list[Case]:
    return [Case(source, e, pts, order=n, **kw) for e in exprs for n in orders]  # type: ignore[arg-type]


def _sym(values: Iterable[float]) -> tuple[float, ...]:
    values = list(values)
    return tuple([-v for v in values] + values)


CASES: list[Case] = []

# --- scipy.differentiate -------------------------------------------------------------------------------------
CASES += [Case(SCIPY_DOC, "exp(x)", (("linspace", 1, 2, 5),))]
# x**p, p = 1..5, at x = 1..4 (the docstring's args example)
CASES += [Case(SCIPY_DOC, f"x**{p}", (1.0, 2.0, 3.0, 4.0)) for p in range(1, 6)]
# sin(c*x) at 0 for c = 1, 5, 10, 20 (the docstring's shapes example), extended over [-1, 1]
CASES += [
    Case(SCIPY_DOC + " (extended)", f"sin({c}*x)", (0.0, ("linspace", -1, 1, 41)), kind="oscillating", length=1 / c)
    for c in (1, 5, 10, 20)
]
CASES += [
    Case(SCIPY_SPECIAL + " (extended)", "x**99 - 1", (7.0, ("linspace", 1, 7, 25)), kind="large-values", length=0.05)
]
CASES += [Case(SCIPY_SPECIAL + " (extended)", f"2*x**{n}", (1.5, ("linspace", -2, 2, 21))) for n in range(6)]
CASES += [Case(SCIPY_SPECIAL, "3*x - 1", (2.0,))]
CASES += [
    Case(
        SCIPY_SADDLE + " (extended)",
        "(x - 1)**3",
        (1.0, *[1 + s * 10.0**-k for k in range(1, 9) for s in (1, -1)]),
        kind="derivative-zero",
        fast=True,
    )
]
CASES += [
    Case(SCIPY_SHAPE + " (extended)", e, (0.0, ("linspace", -1, 1, 41)), kind=kind, length=length)
    for e, kind, length in (
        ("x", "smooth", None),
        ("sin(3*x)", "smooth", 1 / 3),
        ("x + sin(10*x)", "oscillating", 0.1),
        ("sin(20*x)*(x - 1)**2", "oscillating", 0.05),
    )
]
CASES += [Case(SCIPY_DIRECTION, "exp(x)", (("linspace", 0, 2, 10),))]
CASES += [Case(SCIPY_ARGS, f"x**{p}", (1.0, 2.0, 3.0, 4.0)) for p in (2, 3)]
CASES += [Case(SCIPY_DTYPE, "exp(x)", (0.65, 0.7))]
CASES += [Case(SCIPY_STEP, "exp(x)", (0.0,))]
CASES += [Case(SCIPY_JACOBIAN + " (extended)", "0.7*cos(x)", (("linspace", 0, 1, 11),))]
# Not taken: scipy's test_basic / test_accuracy differentiate special.ndtr and distribution CDFs, which numdiff's
# expression language cannot write (no erf).

# --- numdifftools -------------------------------------------------------------------------------------------
NDT_POINTS = (0.5, ("linspace", 0.05, 0.95, 10))
NDT_FUNCTIONS = {
    "cos": "cos(x)",
    "sin": "sin(x)",
    "tan": "tan(x)",
    "cosh": "cosh(x)",
    "sinh": "sinh(x)",
    "tanh": "tanh(x)",
    "exp": "exp(x)",
    "exp2": "2**x",
    "square": "x**2",
    "sqrt": "sqrt(x)",
    "log": "log(x)",
    "log10": "log(x)/log(10)",
    "log2": "log(x)/log(2)",
    "arccos": "acos(x)",
    "arcsin": "asin(x)",
    "arctan": "atan(x)",
}
CASES += _many(NDT_EXAMPLES + " (extended over [0.05, 0.95])", NDT_FUNCTIONS.values(), NDT_POINTS, (1, 2, 3, 4))
CASES += _many(
    NDT_EXAMPLES + " (extended over [0.05, 0.95])", ("asinh(x)", "expm1(x)", "log1p(x)"), NDT_POINTS, (1, 2, 3, 4)
)
CASES += _many(
    NDT_COS_X + " (hypothesis range [0, 10] on a grid, and its @example points)",
    ["cos(x)"],
    (7.6564547238847105, 8.9428143931508, 2.2204460492503134e-14, ("linspace", 0, 10, 51)),
    (1, 2, 3, 4),
    length=1.0,
)
CASES += _many(NDT_COS_HIGH, ["cos(x)"], (math.pi / 2,), (1, 2, 3, 4), kind="derivative-zero", fast=True)
CASES += [Case(NDT_PARAMS, "2*x**3", (0.0, 1.0), order=n, kind="derivative-zero", fast=True) for n in (1, 2)]
CASES += [Case(NDT_CUBE, "x**3", (2.0,))]
CASES += [Case(NDT_EXP, "exp(x)", (0.0,))]
CASES += [Case(NDT_DOC, "exp(x)", (1.0, 2.0))]
CASES += [Case(NDT_DOC, "x**3 + x**2", (1.0,), order=n) for n in (1, 2)]
CASES += [Case(NDT_SIN, "sin(x)", (("linspace", 0, 2 * math.pi, 13),), length=1.0)]
CASES += [Case(NDT_SINH, "sinh(x)", (0.0,))]
CASES += [Case(NDT_LOG, "log(x)", (0.001,), kind="domain-edge")]
CASES += _many(NDT_VECTOR + " (hypothesis range on a grid)", ["x", "x**2", "x**3"], (("linspace", -1000, 1000, 41),))
CASES += [Case(NDT_SCALAR, "x*5*7 + exp(x)*5", (3.0,))]

# --- findiff ------------------------------------------------------------------------------------------------
CASES += [Case(FINDIFF_1D, "x**3", (("linspace", 0, 1, 11),))]
CASES += [Case(FINDIFF_SIN, "sin(x)", (("linspace", 0, math.pi, 100),), length=1.0)]
CASES += [
    Case(
        FINDIFF_NONUNIFORM,
        "exp(-x**2)",
        (("arange", 0, 4, 0.05), ("arange", 4, 10, 1)),
        kind="tiny-values",
        length=0.05,
    )
]
CASES += [
    Case(FINDIFF_LINCOMB, "x**3", tuple(float(v) for v in np.sqrt(np.linspace(0, 1, 10))), order=n) for n in (1, 2)
]
CASES += [Case(FINDIFF_DX, "x**2", (("linspace", 0, 1, 101),), order=n) for n in (1, 2)]
CASES += [Case(FINDIFF_STENCIL, "x**3", (("linspace", 0, 1, 50),), order=2)]
CASES += [Case(FINDIFF_MATRIX, "x**2", (("linspace", 0, 6, 7),), order=2)]
CASES += [Case(FINDIFF_SINSIN, "sin(x)", (("linspace", 0, 1, 50),), order=n) for n in (1, 2)]

# --- complex step and Ridders' method, published examples ------------------------------------------------------
# exp(x)/sqrt(sin(x)**3 + cos(x)**3): real on (-pi/4, 3*pi/4); extended over the domain and towards its edges.
CASES += [
    Case(
        COMPLEX_STEP + " (extended over the domain)",
        "exp(x)/sqrt(sin(x)**3 + cos(x)**3)",
        (1.5, ("linspace", -0.75, 2.3, 62)),
        order=n,
        fast=(n == 1),
    )
    for n in (1, 2, 3, 4)
]
CASES += [
    Case(
        COMPLEX_STEP + " (towards the domain edge 3*pi/4)",
        "exp(x)/sqrt(sin(x)**3 + cos(x)**3)",
        tuple(3 * math.pi / 4 - 10.0**-k for k in range(1, 13)),
        kind="domain-edge",
        fast=True,
    )
]
# exp(x)/(sin(x) - x**2) at 1.0; sin(x) - x**2 vanishes near 0.8767 (a pole), which the extension approaches.
CASES += [Case(RIDDERS_MIR, "exp(x)/(sin(x) - x**2)", (1.0,), fast=True)]
CASES += [
    Case(
        RIDDERS_MIR + " (extended)",
        "exp(x)/(sin(x) - x**2)",
        (("linspace", 0.2, 1.6, 36),),
        kind="near-pole",
        length=0.1,
    )
]
CASES += [Case(RIDDERS_NM, "log(x)", (0.5,), order=n, fast=True) for n in (1, 2, 3, 4)]

# --- the hard classes named in the issue ---------------------------------------------------------------------
# Large |x|.
CASES += [
    Case(
        ISSUE,
        "cos(x)",
        (3e7, *[float(10**k) for k in range(3, 16)], ("linspace", 1e8, 1e8 + 10, 21)),
        kind="large-x",
        length=1.0,
        fast=True,
    ),
    Case(ISSUE, "exp(x)", (("linspace", 700, 709.7, 40),), order=1, kind="large-values", length=1.0),
    Case(ISSUE, "exp(x)", (700.0, 705.0, 709.0), order=2, kind="large-values", length=1.0, fast=True),
    Case(ISSUE, "x**2", (1e154, 1.3e154, ("logspace", 140, 154, 15)), kind="large-x", fast=True),
    Case(ISSUE, "log(x)", (("logspace", 3, 300, 34),), kind="large-x"),
    Case(ISSUE, "sqrt(x)", (("logspace", 3, 300, 34),), kind="large-x"),
    Case(ISSUE, "atan(x)", (("logspace", 1, 15, 29),), kind="large-x"),
]
# Near singularities and domain edges.
CASES += [
    Case(ISSUE, "1/x", _sym(float(v) for v in np.logspace(-150, -1, 40)), kind="near-pole"),
    Case(ISSUE, "1/x", (1e-150, 3e-5, -2e-9), kind="near-pole", fast=True),
    Case(ISSUE, "log(x)", (("logspace", -300, -1, 60),), kind="domain-edge"),
    Case(ISSUE, "log(x)", (5e-324, 1e-300, 1e-10, 2e-3), kind="domain-edge", fast=True),
    Case(ISSUE, "sqrt(x)", (0.0, ("logspace", -300, -1, 60)), kind="domain-edge"),
    Case(ISSUE, "sqrt(x)", (1e-300, 1e-5), kind="domain-edge", fast=True),
    Case(ISSUE, "tan(x)", tuple(math.pi / 2 - 10.0**-k for k in range(1, 16)), kind="near-pole", length=1.0),
    Case(ISSUE, "acos(x)", tuple(1 - 10.0**-k for k in range(1, 16)), kind="domain-edge"),
    Case(ISSUE, "x**1.5", (0.0, ("logspace", -12, -1, 12)), kind="domain-edge"),
    Case(ISSUE, "log(x)", (("logspace", -8, -1, 8),), order=2, kind="domain-edge"),
    Case(ISSUE, "1/x", (("logspace", -30, -1, 30),), order=2, kind="near-pole"),
]
# High frequency.
CASES += [
    Case(ISSUE, "sin(1000*x)", (("linspace", 0, 1, 60),), kind="oscillating", length=1e-3),
    Case(ISSUE, "sin(1000*x)", (0.45, 0.7), kind="oscillating", length=1e-3, fast=True),
    Case(ISSUE, "sin(1000000*x)", (("linspace", 0, 1e-5, 20), 0.3, 1.7), kind="oscillating", length=1e-6),
    Case(ISSUE, "sin(1000000*x)", (0.3,), kind="oscillating", length=1e-6, fast=True),
    Case(ISSUE, "cos(300*x)", (("linspace", 0.5, 1.5, 30),), order=2, kind="oscillating", length=1 / 300),
    Case(ISSUE, "sin(x**2)", (("linspace", 10, 40, 31),), kind="oscillating", length=0.03),
    Case(ISSUE, "exp(-x)*sin(50*x)", (("linspace", 0, 2, 30),), kind="oscillating", length=0.02),
]
# Tiny values.
CASES += [
    Case(ISSUE, "exp(x)", (("linspace", -745, -600, 30),), kind="tiny-values", length=1.0),
    Case(ISSUE, "exp(x)", (-700.0, -708.0, -740.0), kind="tiny-values", length=1.0, fast=True),
    Case(ISSUE, "exp(-x**2)", (("linspace", 12.5, 13.5, 11),), kind="tiny-values", length=0.03),
    Case(ISSUE, "1e-75*sin(x)", (("linspace", -3, 3, 25),), kind="tiny-values", length=1.0),
    Case(ISSUE, "1e-75*x**2", (("linspace", -3, 3, 25), 0.3), kind="tiny-values", fast=False),
    Case(ISSUE, "1e-75*x**2", (0.3,), kind="tiny-values", fast=True),
]
# Functions that cancel internally (f itself is computed with a large relative error in double precision).
CASES += [Case(ISSUE, "log(1 + x**2)", (("logspace", -8, -1, 29),), order=n, kind="cancellation") for n in (1, 2)]
CASES += [
    Case(ISSUE, "log(1 + x**2)", (1e-4, 3e-6), kind="cancellation", fast=True),
    Case(
        ISSUE, "x*(0.5 + 1/(exp(x) - 1))", (0.0, *_sym(float(v) for v in np.logspace(-10, -1, 19))), kind="cancellation"
    ),
    Case(ISSUE, "x*(0.5 + 1/(exp(x) - 1))", (0.0, 1e-8, 1e-5, -1e-3), kind="cancellation", fast=True),
    Case(ISSUE, "(1 - cos(x))/x**2", (("logspace", -6, -1, 11),), kind="cancellation"),
    Case(ISSUE, "(exp(x) - 1)/x", (("logspace", -10, -1, 10),), kind="cancellation"),
    Case(ISSUE, "sqrt(x**2 + 1) - x", (("logspace", 1, 7, 13),), kind="cancellation"),
    Case(ISSUE, "sqrt(x**2 + 1) - x", (1e4,), kind="cancellation", fast=True),
]
# Zeros of the derivative (the achievable accuracy is absolute there).
CASES += [
    Case(ISSUE, "sin(x)", tuple(math.pi / 2 + k * math.pi for k in range(-20, 21)), kind="derivative-zero", length=1.0),
    Case(
        ISSUE,
        "sin(x)",
        (math.pi / 2, 3 * math.pi / 2, math.pi / 2 + 20 * math.pi),
        kind="derivative-zero",
        length=1.0,
        fast=True,
    ),
    Case(ISSUE, "cos(x)", tuple(k * math.pi for k in range(-10, 11)), kind="derivative-zero", length=1.0),
    Case(ISSUE, "x**3", (0.0,), order=1, kind="derivative-zero", fast=True),
    Case(ISSUE, "x**3", (0.0,), order=2, kind="derivative-zero", fast=True),
    Case(ISSUE, "x**2", (0.0,), kind="derivative-zero", fast=True),
    Case(ISSUE, "cosh(x)", (0.0,), kind="derivative-zero", fast=True),
    Case(ISSUE, "exp(-x**2)", (0.0,), kind="derivative-zero", fast=True),
    Case(ISSUE, "tanh(x)", (0.0,), order=2, kind="derivative-zero", fast=True),
    Case(ISSUE, "sigmoid(x)", (0.0,), order=2, kind="derivative-zero", fast=True),
]
# Higher orders.
CASES += [Case(ISSUE, "exp(x)", (0.5,), order=n, kind="higher-order", fast=True) for n in (2, 3, 4)]
CASES += [Case(ISSUE, "log(x + sqrt(x**2 + 1))", (0.0,), order=n, kind="higher-order", fast=True) for n in (1, 2, 3, 4)]
CASES += [
    Case(ISSUE, "log(x + sqrt(x**2 + 1))", (("linspace", -2, 2, 21),), order=n, kind="higher-order")
    for n in (1, 2, 3, 4)
]
CASES += [Case(ISSUE, "sigmoid(x)", (("linspace", -10, 10, 21),), order=n, kind="higher-order") for n in (1, 2, 3)]
# Kinks and jumps: no derivative at the point, where a flag is the right answer; and points near them.
CASES += [
    Case(ISSUE, "abs(x)", (0.0,), kind="kink", fast=True),
    Case(ISSUE, "abs(x - 1)", (1.0,), kind="kink", fast=True),
    Case(ISSUE, "relu(x)", (0.0,), kind="kink", fast=True),
    Case(ISSUE, "sqrt(x**2)", (0.0,), kind="kink", fast=True),
    Case(ISSUE, "abs(sin(x))", (0.0,), kind="kink", fast=True),
    Case(ISSUE, "step(x)", (0.0,), kind="kink", fast=True),
    Case(ISSUE, "sign(x)", (0.0,), kind="kink", fast=True),
    Case(ISSUE, "cbrt(x)", (0.0,), kind="kink", fast=True),
    Case(ISSUE, "abs(x)", _sym(float(v) for v in np.logspace(-12, -1, 12)), kind="kink"),
    Case(ISSUE, "relu(x) + x**2", (("linspace", -1, 1, 20),), kind="kink"),
    Case(ISSUE, "cbrt(x)", (("logspace", -12, 0, 13),), kind="kink"),
]
# Functions the parser gained for the peers' suites (asinh, expm1, log1p, hypot).
CASES += [Case(ISSUE, "asinh(x)", (0.0, ("linspace", -3, 3, 13)), order=n, kind="higher-order") for n in (1, 2, 3, 4)]
CASES += [
    Case(ISSUE, "expm1(x)", (("logspace", -12, -1, 12),), kind="cancellation"),
    Case(ISSUE, "log1p(x)", (("logspace", -12, -1, 12),), kind="cancellation"),
    Case(ISSUE, "hypot(x, 3)", (("linspace", -5, 5, 11),)),
]

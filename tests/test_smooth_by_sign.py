"""Which expressions the gradient commands exempt from the kink test, and what still catches a feature of f far
below the fast pass's steps.

The kink test costs 7 evaluations per component. An expression cannot have a kink when every function in it is
real-analytic at every value its argument takes: those of the whole line (exp, sin, ...), and the others where
sympy proves the argument inside the domain where they are (the logarithms of a positive argument, ``log1p`` of one
above -1, ``acosh`` of one above 1, ``cbrt``/``abs``/``norm`` of one never 0, any power of a positive base). The
expectations below are mathematics, written out: ``1 + x**2 > 0``, ``softmax > 0``, ``sum(x**2) >= 0``.

Mathematically smooth is not smooth on the scale of the steps: ``exp(-1e20*x**2)`` at 1e-21 varies on a scale of
1e-10, and at every fast step the differences are exactly equal (the function is even about 0 to within 1e-21), so
that they say 0 where the derivative is -0.2. The fast pass of a gradient evaluates f at x too and requires its
second differences not to grow towards its smallest step (a feature below the steps makes them grow like 1/h**2, a
kink like 1/h); a component where they grow gets the kink test, whatever the expression.
"""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest
import sympy as sp

from numdiff_cli import engine
from numdiff_cli.expr import parse_expression

# Smooth everywhere, by a proof sympy finds: the argument of each function that is not smooth on the whole line is
# inside the domain where it is real-analytic, for every real value of the variables.
PROVEN_SMOOTH = [
    "log(1 + x**2) + y",  # 1 + x**2 >= 1
    "log1p(sum(x**2))",  # sum(x**2) >= 0 > -1
    "-sum(t*log(softmax(x @ W)))",  # softmax > 0 (the softmax cross-entropy of the README)
    "1/(1 + exp(-x)) + y",  # 1 + exp(-x) > 1: a negative power of a positive base
    "sigmoid(x) * y",
    "(x**2 + 1)**0.5 + y",  # a non-integer power of a positive base
    "log(cosh(x)) + y",  # cosh >= 1
    "acosh(x**2 + 2) + y",  # x**2 + 2 >= 2 > 1
    "cbrt(x**2 + 1) + y",
    "norm(exp(x))",  # every element positive: never the zero vector
    "log(sum(exp(x)))",
    "log(prod(exp(x)))",
    "log(mean(x**2) + 1e-9)",
    "x*log(2) + log10(3)*y",  # logarithms of positive constants
    # The sign rules of the array nodes, one each: an element or slice, a transpose, a broadcast value (x - x), a
    # norm, a logsumexp, a matrix product and a dot product of real values are real, so their squares are >= 0.
    "sum(log(1 + x[1:]**2))",
    "sum(log(1 + transpose(W)**2))",
    "sum(log(softmax(x - x)))",
    "log(1 + norm(exp(x)))",
    "log(1 + logsumexp(x)**2)",
    "sum(log(1 + (x @ W)**2))",
    "log(1 + dot(x, y)**2)",
]

# Their neighbours that may have a kink, a cusp or a pole where the argument reaches the edge: not exempt.
NOT_PROVEN = [
    "log(x**2) + y",  # x**2 = 0 at 0
    "log(sum(x**2))",  # 0 at x = 0
    "log(sum(x))",  # may be negative
    "atan(log(x**2)) + y",  # a cusp at 0
    "log1p(x) + y",
    "log(1 - x**2) + y",
    "acosh(x**2 + 1) + y",  # 1 at 0: the edge of acosh's domain, |x|-like there
    "cbrt(x) + y",
    "cbrt(x**2) + y",  # x**2 >= 0 but 0 at 0: |x|**(2/3), a cusp
    "log1p(x**2 - 1) + y",  # x**2 - 1 >= -1, -1 at 0: a pole of log1p
    "norm(x)",  # a cone at 0
    "log(softmax(x) - 0.5)",
    "log(x @ W)",
    "log(logsumexp(x))",  # logsumexp may be negative
    "x**2.5 + y",
    "(x**2 + y**2)**0.5",
    "x*tanh(1/x) + y",
    "abs(x) + y",
    "relu(x) + y",
    "max(x, y)",
    "tan(x**2 + 1) + y",  # tan has poles
    "hypot(x, 1)",
    "log(1 + max(x)**2)",  # max(x) itself has a kink where two elements tie
]


@pytest.mark.parametrize("text", PROVEN_SMOOTH)
def test_a_function_of_an_argument_proven_inside_its_smooth_domain_is_smooth(text: str) -> None:
    assert parse_expression(text).smooth


@pytest.mark.parametrize("text", NOT_PROVEN)
def test_one_whose_argument_may_reach_the_edge_is_not(text: str) -> None:
    assert not parse_expression(text).smooth


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("log(1 + x**2) + y", "0.3,2"),
        ("1/(1 + exp(-x)) + y", "-1.5,0.5"),
        ("(x**2 + 1)**0.5 + y", "0,1"),
        ("log(cosh(x)) + y", "0.7,-2"),
        ("acosh(x**2 + 2) + y", "-0.4,1"),
        ("cbrt(x**2 + 1) + y", "1.1,0"),
    ],
)
def test_grad_of_those_pays_no_kink_test_and_is_right(run, text: str, at: str) -> None:
    # Right against sympy's gradient, without the kink test's 7 evaluations per component (README).
    result = run("grad", text, "--at", at, "--format", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    symbols = sp.symbols("x y")
    tree = sp.sympify(text.replace("cbrt(x**2 + 1)", "(x**2 + 1)**(1/3)"))
    point = dict(zip(symbols, map(float, at.split(","))))
    exact = [float(sp.diff(tree, s).subs(point).evalf(30)) for s in symbols]
    np.testing.assert_allclose(row["gradient"], exact, rtol=1e-10, atol=1e-12)
    expression = parse_expression(text)
    X = np.array([[point[s]] for s in symbols])
    exempt = engine.gradient(expression.function, X, check_kink=not expression.smooth)
    assert exempt.nfev == engine.gradient(expression.function, X, check_kink=True).nfev - 7


# Features of f far below the fast pass's smallest step (0.013) next to x: a bump, a rounded cone and a rounded
# logarithmic cusp of width w, each at x = w/10, w and 10 w. Each is real-analytic; exact derivatives from mpmath.
def _bump(w: float):
    return (lambda v: np.exp(-((v[0] / w) ** 2)) + v[1]), (lambda t: -2 * t / w**2 * mpmath.exp(-((t / w) ** 2)))


def _cone(w: float):
    return (lambda v: np.sqrt(v[0] ** 2 + w**2) + v[1]), (lambda t: t / mpmath.sqrt(t**2 + w**2))


def _cusp(w: float):
    return (lambda v: np.log(v[0] ** 2 + w**2) + v[1]), (lambda t: 2 * t / (t**2 + w**2))


def _lifted_bump(w: float):
    # A bump of height 1 on 1e8: 4.5e7 ulps of f, far above its rounding, which the check must not take it for.
    return (lambda v: 1e8 + np.exp(-((v[0] / w) ** 2)) + v[1]), _bump(w)[1]


@pytest.mark.parametrize("width", [1e-4, 1e-7, 1e-10, 1e-13])
@pytest.mark.parametrize("kind", [_bump, _cone, _cusp, _lifted_bump])
def test_a_feature_far_below_the_steps_is_never_vouched_for_wrongly(kind, width: float) -> None:
    # Before the fast pass looked at f at x, the bump at 1e-21 with width 1e-10 came out 0 +- 8e-16 where the
    # derivative is -0.2, status OK, from grad: silently wrong. Now each component is right within its error, or
    # flagged (the kink test says the slopes differ on the steps it can take).
    f, exact = kind(width)
    with mpmath.workdps(40):
        # (At 1e-6 w the cone's differences are those of |x| to within rounding: its second differences grow like
        # 1/h, 20 times over the fast steps, where the bump's grow 430 times.)
        for offset in (1e-6, 0.1, 1.0, 10.0):
            t = offset * width
            estimate = engine.gradient(f, np.array([[t], [1.0]]), analytic=True)
            truth = exact(mpmath.mpf(t))
            if int(estimate.status[0, 0]) == engine.OK:
                error = abs(mpmath.mpf(float(estimate.value[0, 0])) - truth)
                assert error <= 10 * float(estimate.error[0, 0]) or error <= 1e-12 * abs(truth), (t, estimate)


def test_grad_of_the_bump_is_flagged_through_the_command(run) -> None:
    result = run("grad", "exp(-1e20*x**2) + y", "--at", "1e-21,1", "--format", "json")
    row = json.loads(result.stdout)
    assert result.exit_code == 3 and "warning" in row, result.output


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("exp(sin(x)) * cos(y)", [0.7, 0.3]),
        # Linear on top of 1e6: second differences all rounding (0 exactly in theory), 6,000 ulps of f over the
        # square of the smallest step, which the check allows for.
        ("1e6 + x + 2*y", [0.3, 0.4]),
        # x**4 - x**2/64 at 0: the second difference 2 h**2 - 1/32 vanishes at h = 1/8, the fast pass's second step,
        # and is -0.031 at its smallest: growth against that step alone, none against the largest (0.11).
        ("x**4 - x**2/64 + y", [0.0, 0.5]),
        # The same at the largest step, 17/64: x**4 - (17/64)**2 x**2.
        ("x**4 - 289/4096*x**2 + y", [0.0, 0.5]),
    ],
)
def test_smooth_functions_on_the_scale_of_the_steps_pay_for_the_fast_pass_only(text: str, at: list) -> None:
    # No false alarm: the fast pass settles every component (README: 11 evaluations), no kink test.
    expression = parse_expression(text)
    estimate = engine.gradient(expression.function, np.array(at)[:, None], check_kink=not expression.smooth)
    assert estimate.nfev == 11 and (estimate.status == engine.OK).all()


def test_second_differences_at_the_rounding_level_of_f_are_no_sign_of_a_feature() -> None:
    # f = 1e6 + x/2 plus wiggles of 100 ulps of f (1.2e-8) on a scale of 1e-7, as the rounding of a function
    # computed in many operations looks: at the smallest fast step (1/79) they make second differences of up to
    # 400 ulps / h**2 = 3e-4, hundreds of times those at the largest step, but below 1e3 ulps of f over h**2 (the
    # allowance the check makes for rounding, as the kink test does); the fast pass must still trust every point.
    from numdiff_cli.numerics.fast import fast_estimates

    ulp = float(np.spacing(1e6))
    x = np.linspace(-1.0, 1.0, 41)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        v = x + t
        return 1e6 + v / 2 + 100 * ulp * np.sin(1e7 * v)

    grows = np.zeros(x.size, dtype=bool)
    trusted = fast_estimates(along, x, 1, None, x.shape, grows=grows)[5]
    assert trusted.all() and not grows.any()


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max())
    return e / e.sum()


NUMPY = {
    "abs": np.abs,
    "exp": np.exp,
    "log": np.log,
    "sign": np.sign,
    "relu": lambda a: np.maximum(a, 0.0),
    "sum": np.sum,
    "prod": np.prod,
    "mean": np.mean,
    "softmax": _softmax,
    "transpose": np.transpose,
}

# What sympy learns from the array nodes' signs it also acts on while it builds the tree (abs of a value it knows
# to be negative is its negative), so a sign rule that claims too much changes the function itself: prod(-exp(x))
# of two elements is positive, not negative. Each expression is compared with numpy's value of the same text.
SIGNED = [
    "abs(prod(-x**2))",
    "relu(prod(-exp(x)))",
    "sign(prod(-exp(x)))",
    "abs(1 - prod(-exp(x)))",
    "abs(prod(-exp(x))) + abs(prod(exp(x)))",
    "abs(sum(-exp(x)))",
    "relu(mean(-x**2 - 1)) + sign(sum(exp(x)))",
    "abs(x[0] - 5) + sum(abs(-exp(x[1:])))",
    "sum(abs(log(softmax(x))))",
    "sum(abs(transpose(-exp(x))))",
]


@pytest.mark.parametrize("text", SIGNED)
@pytest.mark.parametrize("n", [2, 3])
def test_the_sign_rules_never_change_the_function(text: str, n: int) -> None:
    from numdiff_cli.bound import bind

    function = bind(parse_expression(text), {"x": (n,)}, {}).function
    rng = np.random.default_rng(n)
    for _ in range(5):
        x = rng.uniform(-2.0, 2.0, n)
        expected = eval(text, {"__builtins__": {}}, {**NUMPY, "x": x})  # our own literal texts, numpy semantics
        np.testing.assert_allclose(function(x[:, None])[0], expected, rtol=1e-13)


@pytest.mark.parametrize(
    ("text", "at", "derivative"),
    [
        # Smooth on a scale of 1e-3 to 1e-2: the fast pass's second differences grow, the complex step vouches for the
        # component on steps far below that scale, and a kink test at the fast pass's step would see the feature as
        # a kink (it did: exit 3, "it has no derivative").
        ("tanh(1000*x) + y", "0.002,0", lambda t: 1000 / mpmath.cosh(1000 * t) ** 2),
        (
            "exp(-x**2/1e-4) + y",
            "0.015,0",
            lambda t: -2 * t / mpmath.mpf("1e-4") * mpmath.exp(-(t**2) / mpmath.mpf("1e-4")),
        ),
    ],
)
def test_a_smooth_function_on_a_small_scale_is_no_kink(run, text: str, at: str, derivative) -> None:
    result = run("grad", text, "--at", at, "--format", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    with mpmath.workdps(30):
        exact = float(derivative(mpmath.mpf(at.split(",")[0])))
    assert abs(row["gradient"][0] - exact) <= 1e-9 * abs(exact)


def test_the_second_difference_check_only_adds_to_the_fast_pass_guards() -> None:
    # With f at x, a point is trusted exactly when the fast pass trusts it without and its second differences do not
    # grow: the check adds a condition, it replaces none (steps of a few ulps of f, steps beyond a singularity, a
    # bump below the steps).
    from numdiff_cli.numerics.fast import fast_estimates

    cases = [
        (lambda v: 1e15 + v, np.array([0.3, 1.0, 7.5])),  # steps of a few ulps of f: not trusted, no growth
        (lambda v: np.log(v), np.array([1e-3, 0.05])),  # steps beyond the singularity: not trusted, no growth
        (lambda v: 1 / v, np.array([1e-3, -2e-3])),
        (lambda v: np.exp(-1e20 * v**2), np.array([1e-21, 0.0])),  # trusted without the check, growing
        (lambda v: np.exp(np.sin(v)), np.linspace(-3.0, 3.0, 7)),
        (np.abs, np.array([0.0, 1e-3])),
    ]
    for f, x in cases:

        def along(t: np.ndarray, sel: np.ndarray | None, f=f, x=x) -> np.ndarray:
            return f(x + t)

        with np.errstate(all="ignore"):
            without = fast_estimates(along, x, 1, None, x.shape)[5]
            grows = np.zeros(x.size, dtype=bool)
            with_check = fast_estimates(along, x, 1, None, x.shape, grows=grows)[5]
        assert (with_check == (without & ~grows)).all(), (f, x, without, grows, with_check)

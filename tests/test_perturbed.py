"""The structured evaluation of a gradient's batches (numdiff_cli.perturbed, perturbed_arrays) against the dense one.

A batch of points that each differ from a base point in one coordinate is evaluated twice: as the dense array
of its points (the evaluation every other command uses, and the gradient used before) and as base values plus
changes. The two agree to within rounding (a few eps times the size of the values, the difference between two
orders of summing the same terms) on every function of the language that takes arrays, on slices, indices,
broadcasting, ``@`` and fixed values; where the structured form covers an expression, it never builds the dense
values (a budget of numbers below theirs is enough); where it does not, it falls back to them. Then gradients
through the installed command against closed forms.
"""

from __future__ import annotations

import numpy as np
import pytest

from numdiff_cli import engine
from numdiff_cli.bound import bind
from numdiff_cli.expr import parse_expression
from numdiff_cli.functions import FUNCTIONS
from numdiff_cli.perturbed import STRUCTURED_FROM, Changes, Perturbed, TooDense, union

RNG = np.random.default_rng(7)
N = 12


def batch(m: int, points: int = 2, count: int | None = None) -> Changes:
    """Random base points (m, points) and changes of one coordinate each (every coordinate twice or more, if
    ``count`` is not given), some of them to 0."""
    count = max(40, 2 * m) if count is None else count
    base = RNG.uniform(0.1, 0.9, (m, points))
    which = RNG.integers(0, points, count)
    row = RNG.permutation(np.arange(count) % m)
    value = base[row, which] + RNG.uniform(-0.05, 0.05, count)
    value[::7] = 0
    return Changes(base, which, row, value)


def function(text: str, shapes: dict, fixed: dict | None = None):  # type: ignore[no-untyped-def]
    return bind(parse_expression(text), shapes, fixed or {}).function


def both(f, changes: Changes, budget: float = 1e6) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(structured, dense) values of ``f`` on ``changes``."""
    return f.at_changes(changes, budget), f(changes.dense())


def assert_within_rounding(structured: np.ndarray, dense: np.ndarray, size: int) -> None:
    """Equal to within the rounding of sums of ``size`` terms: 4 * size * eps of the largest value."""
    assert structured.shape == dense.shape
    assert np.array_equal(np.isnan(structured), np.isnan(dense))
    finite = np.isfinite(dense)
    assert np.array_equal(structured[~finite], dense[~finite], equal_nan=True)
    scale = max(1.0, float(np.abs(dense[finite]).max(initial=0.0)))
    assert np.abs(structured[finite] - dense[finite]).max(initial=0.0) <= 4 * size * engine.EPS * scale


U = RNG.uniform(0.1, 0.9, N)
T = RNG.uniform(0.1, 0.9, N)
V4 = RNG.uniform(-1, 1, 4)
B3 = RNG.uniform(-1, 1, 3)
M_12x2 = RNG.uniform(-1, 1, (N, 2))
M_2x12 = RNG.uniform(-1, 1, (2, N))
ONE_HOT = np.eye(4)[1]

# text, shapes of the variables, fixed values; every case is one the structured form covers without materializing
# a value of N elements or more.
COVERED = [
    ("sum(x**2) + prod(cos(x))", {"x": (N,)}, {}),
    (f"(sum(exp(sin(x[:-1]) * x[1:])) + exp(sin(x[-1]) * x[0])) / {N} + log1p(sum(x**2))", {"x": (N,)}, {}),
    ("-sum(t*log(softmax(u @ W)))", {"W": (N, 4)}, {"u": U, "t": ONE_HOT}),
    ("sum((W @ v - b)**2)", {"W": (3, 4)}, {"v": V4, "b": B3}),
    ("sum(transpose(W) @ M)", {"W": (N, 3)}, {"M": M_12x2}),
    ("sum(M @ W)", {"W": (N, 3)}, {"M": M_2x12}),
    ("sum(transpose(M) @ transpose(W))", {"W": (3, N)}, {"M": M_12x2}),
    ("dot(x, x) + dot(t, x) + sum(dot(2, x)) + x @ t", {"x": (N,)}, {"t": T}),
    ("mean(x) + norm(x) + max(x) - min(x) + logsumexp(x)", {"x": (N,)}, {}),
    ("sum(max(x, 0.5) * min(x, t)) + sum(relu(x - 0.5))", {"x": (N,)}, {"t": T}),
    ("sum(W[1:, :2]**2) + W[0, 1] * sum(W[:, 0]) + sum(W[2])", {"W": (3, 4)}, {}),
    ("sum(W * x) + sum(x * y) + y**2", {"W": (3, N), "x": (N,)}, {}),
    ("sum((x - t)**2) + prod(x) + max(x * t)", {"x": (N,)}, {"t": T}),
    ("sum(x - x) + sum(x)", {"x": (N,)}, {}),
    ("norm(W) + logsumexp(W) + mean(transpose(W)[0])", {"W": (4, 3)}, {}),
    ("prod(x[::2]) * sum(x[1::3]) + min(x[::-1])", {"x": (N,)}, {}),
]

# Functions of one or two numbers, applied elementwise and summed: elementwise maps of both parts.
ELEMENTWISE = [
    (f"sum({name}(x))", {"x": (N,)}, {}) if 1 in row.arities else (f"sum({name}(x, t))", {"x": (N,)}, {"t": T})
    for name, row in FUNCTIONS.items()
    if not row.array
] + [("sum(log(x, t)) + sum(max(x, t)) + sum(min(t, x))", {"x": (N,)}, {"t": T})]

# Covered only by materializing: softmax of the perturbed value, a perturbed scalar broadcast over more elements
# than changes are kept, the product of two perturbed matrices.
MATERIALIZED = [
    ("sum(softmax(x) * t)", {"x": (N,)}, {"t": T}),
    ("sum(exp(x * y))", {"x": (40,)}, {}),
    ("sum(A @ A)", {"A": (4, 4)}, {}),
]


def test_every_array_function_is_in_the_corpus() -> None:
    texts = " ".join(text for text, *_ in COVERED + MATERIALIZED)
    missing = [name for name, row in FUNCTIONS.items() if row.array and f"{name}(" not in texts]
    assert not missing, f"array functions with no case here: {missing}"
    assert "@" in texts and "[" in texts


def cases(rows: list) -> list:
    return [pytest.param(*row, id=row[0]) for row in rows]


@pytest.mark.parametrize(("text", "shapes", "fixed"), cases(COVERED + ELEMENTWISE + MATERIALIZED))
def test_structured_equals_dense(text: str, shapes: dict, fixed: dict) -> None:
    f = function(text, shapes, fixed)
    m = len(bind(parse_expression(text), shapes, fixed).names)
    changes = batch(m)
    structured, dense = both(f, changes)
    assert_within_rounding(structured, dense, m)
    # and in parts: a budget smaller than the dense values makes the evaluation go by smaller batches
    assert_within_rounding(f.at_changes(changes, 5 * m), dense, m)


@pytest.mark.parametrize(("text", "shapes", "fixed"), cases(COVERED + ELEMENTWISE))
def test_covered_expressions_never_build_the_dense_values(text: str, shapes: dict, fixed: dict) -> None:
    """With a budget of fewer numbers than the dense values of the points hold, the structured form still
    evaluates the whole batch at once (TooDense would say it had to build them)."""
    f = function(text, shapes, fixed)
    m = len(bind(parse_expression(text), shapes, fixed).names)
    changes = batch(m).part(0, 2 * m)
    values = f.structured(changes, 8 * 2 * m)  # the largest value built is 4 elements (u @ W)
    assert_within_rounding(values.reshape(-1), f(changes.dense()).reshape(-1), m)


@pytest.mark.parametrize(("text", "shapes", "fixed"), cases(MATERIALIZED))
def test_uncovered_expressions_build_the_dense_values(text: str, shapes: dict, fixed: dict) -> None:
    f = function(text, shapes, fixed)
    m = len(bind(parse_expression(text), shapes, fixed).names)
    with pytest.raises(TooDense):
        f.structured(batch(m).part(0, 2 * m), 8 * 2 * m)


def test_complex_step_points() -> None:
    """Complex points (the complex step): the same values as the dense evaluation in complex arithmetic."""
    f = function("sum(x**2) + prod(cos(x)) + x @ t", {"x": (N,)}, {"t": T})
    changes = batch(N)
    changes = Changes(changes.base.astype(complex), changes.which, changes.row, changes.value + 1e-20j)
    structured, dense = both(f, changes)
    assert structured.dtype == dense.dtype == complex
    assert_within_rounding(structured.real, dense.real, N)
    # the imaginary parts carry the derivative: relative agreement, each of them
    assert np.allclose(structured.imag, dense.imag, rtol=1e-13, atol=0)


@pytest.mark.parametrize(
    ("text", "base_values"),
    [
        ("prod(x)", {3: 0.0}),  # a zero element: the product of the others is no quotient
        ("prod(x)", {3: 0.0, 5: 0.0}),
        ("sum(log(x))", {4: -1.0}),  # NaN at the base point: those points are evaluated densely
        ("max(x) + min(x)", {2: np.nan}),
        ("sum(exp(x))", {1: 800.0}),  # overflow at the base point
        ("logsumexp(x)", {1: 800.0}),
        ("logsumexp(x)", {1: -np.inf}),
    ],
)
def test_zeros_and_non_finite_values(text: str, base_values: dict) -> None:
    f = function(text, {"x": (N,)})
    changes = batch(N)
    for index, value in base_values.items():
        changes.base[index] = value
    changes.value[::5] = changes.base[changes.row[::5], changes.which[::5]]  # unchanged points too
    changes.value[3] = 900.0  # a change that overflows exp
    structured, dense = both(f, changes)
    assert_within_rounding(structured, dense, N)


def test_product_without_an_element_is_not_a_quotient() -> None:
    """prod(x) at points where the changed element was 0 at the base point: the others' product (exact here)."""
    f = function("prod(x)", {"x": (N,)})
    base = np.full((N, 1), 2.0)
    base[5] = 0.0
    changes = Changes(base, np.zeros(3, dtype=int), np.array([5, 5, 0]), np.array([3.0, 0.5, 1.0]))
    assert f.at_changes(changes, 1e6).tolist() == [3.0 * 2.0**11, 0.5 * 2.0**11, 0.0]


def test_other_numpy_functions_fall_back_to_the_dense_values() -> None:
    """What the structured form does not know (np.select, np.where, ufunc reductions) gets the dense values."""
    changes = batch(N)
    p = Perturbed(
        changes.base, changes.which, np.where(changes.row < N, changes.row, -1)[:, None], changes.value[:, None], 1e6
    )
    dense = changes.dense()
    assert np.array_equal(np.select([p > 0.5], [p], 0.0), np.select([dense > 0.5], [dense], 0.0))
    assert np.array_equal(np.where(p > 0.5, p, -p), np.where(dense > 0.5, dense, -dense))
    assert np.array_equal(np.add.reduce(p, axis=0), np.add.reduce(dense, axis=0))
    assert np.array_equal(np.asarray(np.sin(p) * 2 + 1), np.sin(dense) * 2 + 1)


@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("overlap", [0.0, 0.5, 1.0])
def test_two_values_that_each_change_one_position_as_the_general_rule_makes_them(dtype: type, overlap: float) -> None:
    """Two operands that change one position per point (x[:-1] * x[1:]) take a shorter way than the general union
    of positions: the same positions and the same values at every point, bit for bit, whether they change the same
    position at no point, at half of them or at all (and where one of them changes none)."""
    rng = np.random.default_rng(int(10 * overlap))
    count, size = 300, 9
    base = rng.uniform(-1, 1, (size, 2)).astype(dtype)
    which = rng.integers(0, 2, count)
    mine = rng.integers(-1, size, count)
    theirs = np.where(rng.uniform(size=count) < overlap, mine, rng.integers(-1, size, count))
    a = Perturbed(base, which, mine[:, None], rng.uniform(-1, 1, (count, 1)).astype(dtype), 1e6)
    b = Perturbed(np.cos(base), which, theirs[:, None], rng.uniform(-1, 1, (count, 1)).astype(dtype), 1e6)
    for function in (np.multiply, np.subtract, np.arctan2 if dtype is float else np.divide):
        short = function(a, b)
        where = union([a.where, b.where])
        assert where is not None
        general = Perturbed(function(a.base, b.base), which, where, function(a.at(where), b.at(where)), 1e6)
        assert np.array_equal(short.dense(), general.dense(), equal_nan=True)
        assert np.array_equal(short.dense(), function(a.dense(), b.dense()), equal_nan=True)


def test_dense_points_are_the_engine_batch() -> None:
    """Changes.dense() builds exactly the points the gradient builds: base with one coordinate moved."""
    changes = batch(5, points=3, count=7)
    points = changes.dense()
    for c in range(7):
        expected = changes.base[:, changes.which[c]].copy()
        expected[changes.row[c]] = changes.value[c]
        assert np.array_equal(points[:, c], expected)


# ---- gradients through the installed command ----------------------------------------------------------------


def _sum_prod_gradient(x: np.ndarray) -> np.ndarray:
    """2 x_i - sin(x_i) prod_(j != i) cos(x_j), the products of the others written out."""
    c = np.cos(x)
    return np.array([2 * x[i] - np.sin(x[i]) * np.prod(np.delete(c, i)) for i in range(len(x))])


@pytest.mark.parametrize("method", ["auto", "central", "complex"])
def test_grad_of_many_variables_against_the_closed_form(run, method: str) -> None:  # type: ignore[no-untyped-def]
    n = 2 * STRUCTURED_FROM
    x = np.random.default_rng(1).uniform(-1, 1, n)
    result = run("grad", "sum(x**2) + prod(cos(x))", "--at", ",".join(map(repr, x.tolist())), "--method", method)
    assert result.exit_code == 0, result.output
    values = np.array([float(v) for v in result.output.split()])
    # auto: 11 digits at least (its error estimates are checked elsewhere); central: its O(h**2) error at h ~ 6e-6;
    # complex: Im f(x + ih)/h at h = 1e-200 is exact but for the rounding of f (a product of 128 cosines)
    tolerance = {"auto": 1e-10, "central": 1e-8, "complex": 1e-13}[method]
    assert np.allclose(values, _sum_prod_gradient(x), rtol=0, atol=tolerance)


def test_grad_softmax_cross_entropy_by_a_weight_matrix(run) -> None:  # type: ignore[no-untyped-def]
    """A 20x5 weight matrix (100 variables): the closed form outer(x, softmax(x @ W) - t), errors bounding it."""
    rng = np.random.default_rng(2)
    x, W, t = rng.uniform(0, 1, 20), 0.1 * rng.standard_normal((20, 5)), np.eye(5)[2]
    let = f"x=[{','.join(map(repr, x.tolist()))}],t=[{','.join(map(repr, t.tolist()))}]"
    at = "W=" + repr(W.tolist()).replace(" ", "")
    result = run("grad", "sum(-t*log(softmax(x @ W)))", "--wrt", "W", "--let", let, "--at", at, "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    row = json.loads(result.output)
    z = x @ W
    s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    exact = np.outer(x, s - t)
    value, error = np.array(row["gradient"]), np.array(row["error"])
    assert np.all(np.abs(value - exact) <= np.maximum(error, 1e-15))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_structured_gradient_is_as_honest_as_the_dense_one(seed: int) -> None:
    """engine.gradient with and without the structured batches, against the closed form of the cyclic function:
    every error estimate bounds the true error, both ways; a status differs only where both estimates are at the
    flagging threshold (rounding of another order of summation moves them by a few percent)."""
    n = 3 * STRUCTURED_FROM
    x = np.random.default_rng(seed).uniform(-1, 1, n)
    f = function(f"(sum(exp(sin(x[:-1]) * x[1:])) + exp(sin(x[-1]) * x[0])) / {n} + log1p(sum(x**2))", {"x": (n,)})
    structured = engine.gradient(f, x[:, None])
    dense = engine.gradient(lambda points: f(points), x[:, None])
    after, before = np.roll(x, -1), np.roll(x, 1)
    exact = (np.cos(x) * after * np.exp(np.sin(x) * after) + np.sin(before) * np.exp(np.sin(before) * x)) / n
    exact += 2 * x / (1 + np.sum(x**2))
    threshold = engine.PRECISION[1]
    for estimate in (structured, dense):
        value, error = estimate.value[:, 0], estimate.error[:, 0]
        assert np.all(np.abs(value - exact) <= error + 4 * engine.EPS * np.abs(exact))
    differ = structured.status[:, 0] != dense.status[:, 0]
    for estimate in (structured, dense):
        relative = estimate.error[differ, 0] / np.abs(estimate.value[differ, 0])
        assert np.all((relative > threshold / 2) & (relative < 2 * threshold))

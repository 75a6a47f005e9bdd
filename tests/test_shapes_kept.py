"""An array expression keeps the shape of its text when sympy cancels the terms that gave it that shape.

sympy simplifies while the parser builds (``x - x`` is 0, ``0*x`` is 0), and a value whose variables are gone, or
left only inside a reduction, would lose the shape numpy gives the text: ``sum(x - x + mean(x))`` is twice the mean
of two elements in numpy, and was the mean (its gradient 0.5 0.5 for 1 1, exit 0). Each text below is compared with
numpy's value of the same text, at random points, through the function the commands evaluate.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from numdiff_cli.bound import bind
from numdiff_cli.expr import parse_expression

NUMPY = {
    "sum": np.sum,
    "prod": np.prod,
    "mean": np.mean,
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "transpose": np.transpose,
}

# (text, shapes of its variables)
CANCELLED = [
    ("sum(x - x + mean(x))", {"x": (2,)}),
    ("prod(0*x + mean(x))", {"x": (3,)}),
    ("x*0 + sum(x)", {"x": (3,)}),  # the whole value: a vector of three sums
    ("sum(x - x + 1)", {"x": (4,)}),
    ("sum(x[1:] - x[1:] + mean(x))", {"x": (4,)}),  # the slice's shape, 3
    ("sum(x @ W - x @ W + mean(x))", {"x": (2,), "W": (2, 3)}),  # the product's shape, 3
    ("sum(transpose(W) - transpose(W) + mean(W))", {"W": (2, 3)}),
    ("sum(exp(x)/exp(x))", {"x": (5,)}),
    ("sum(log(exp(x)) - x + sin(mean(x)))", {"x": (3,)}),
    ("mean(W - W + sum(W[0]))", {"W": (2, 2)}),
    # Not cancelled: the same shapes either way (the check must not broadcast what needs no broadcasting).
    ("sum(x**2) + prod(x)", {"x": (3,)}),
    ("x @ W", {"x": (2,), "W": (2, 3)}),
    ("sum(x[1:] * x[:-1])", {"x": (4,)}),
]


@pytest.mark.parametrize(("text", "shapes"), CANCELLED)
def test_the_value_is_numpys_value_of_the_text(text: str, shapes: dict) -> None:
    function = bind(parse_expression(text), shapes, {}).function
    rng = np.random.default_rng(len(text))
    for _ in range(3):
        values = {name: rng.uniform(0.5, 2.0, shape) for name, shape in shapes.items()}
        expected = np.asarray(eval(text, {"__builtins__": {}}, {**NUMPY, **values}))  # our literal texts, numpy
        stacked = np.concatenate([values[name].reshape(-1) for name in sorted(shapes)])[:, None]
        got = np.asarray(function(stacked))
        assert got.shape[: expected.ndim] == expected.shape, (got.shape, expected.shape)
        np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-13)


def test_grad_of_a_cancelled_mean_through_the_command(run) -> None:
    # sum(x - x + mean(x)) = n * mean(x) = sum(x): every component of its gradient is 1.
    result = run("grad", "sum(x - x + mean(x))", "--at", "x=[-0.29,1.55]", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["gradient"] == pytest.approx([1.0, 1.0], rel=1e-12)

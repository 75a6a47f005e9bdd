"""``engine.jacobian``: one gradient per function over its own variables, the numbers the jacobian command prints."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import json_lines

from numdiff_cli.engine import OK, VANISHING_STEP, gradient, jacobian
from numdiff_cli.expr import parse_expression


@pytest.mark.parametrize(
    "options",
    [
        pytest.param([], id="auto"),
        pytest.param(["--method", "central", "--h", "1e-3"], id="central-with-step"),
        pytest.param(["--method", "complex"], id="complex"),
    ],
)
def test_jacobian_is_what_the_command_prints(run, options: list[str]) -> None:
    # "y" alone and "x10 + x2" together: the union of their variables is x2, x10, y.
    texts = ["y*exp(x2)", "x10 + x2**3", "sin(x10)"]
    result = run("jacobian", *texts, "--at", "0.5,2,3", "--at", "1,-1,0.25", "--format", "json", *options)
    assert result.exit_code == 0
    rows = json_lines(result.stdout)
    names = rows[0]["vars"]
    expressions = [parse_expression(text) for text in texts]
    columns = [[names.index(name) for name in expression.names] for expression in expressions]
    X = np.array([[row["at"][name] for row in rows] for name in names])
    method = options[1] if options else "auto"
    step = float(options[3]) if len(options) > 2 else None
    # As the command calls it: the complex step first where every expression is analytic, kinks looked for where
    # one may have them.
    estimate = jacobian(
        [e.function for e in expressions],
        X,
        columns=columns,
        method=method,
        step=step,
        check_step=True,
        analytic=all(e.analytic for e in expressions),
        check_kink=not all(e.smooth for e in expressions),
    )
    assert estimate.value.shape == estimate.error.shape == estimate.status.shape == (3, 3, 2)
    depends = np.zeros((3, 3), dtype=bool)
    for k, index in enumerate(columns):
        depends[k, index] = True
    for j, row in enumerate(rows):
        assert row["jacobian"] == estimate.value[..., j].tolist()
        # A single difference estimates no error: NaN here, and the command prints none.
        assert (row["error"] is None) == (method == "central")
        if row["error"] is None:
            assert np.isnan(estimate.error[depends, j]).all()
            assert (estimate.error[~depends, j] == 0).all()
        else:
            assert row["error"] == estimate.error[..., j].tolist()


def test_jacobian_rows_are_gradients_and_zeros_elsewhere() -> None:
    functions = [lambda v: v[0] * v[1], lambda v: np.exp(v[0])]
    X = np.array([[0.5, 1.5], [2.0, -1.0], [3.0, 4.0]])
    estimate = jacobian(functions, X, columns=[[0, 2], [1]])
    first = gradient(functions[0], X[[0, 2]])
    second = gradient(functions[1], X[[1]])
    assert np.array_equal(estimate.value[0, [0, 2]], first.value)
    assert np.array_equal(estimate.error[0, [0, 2]], first.error)
    assert np.array_equal(estimate.value[1, [1]], second.value)
    # Variables a function does not read: exactly 0, error 0, status OK, step 0.
    for k, i in [(0, 1), (1, 0), (1, 2)]:
        assert estimate.value[k, i].tolist() == [0.0, 0.0]
        assert estimate.error[k, i].tolist() == [0.0, 0.0]
        assert estimate.step[k, i].tolist() == [0.0, 0.0]
        assert (estimate.status[k, i] == OK).all()
    assert estimate.nfev == max(first.nfev, second.nfev)


def test_jacobian_without_columns_differentiates_every_function_in_every_variable() -> None:
    functions = [lambda v: v[0] ** 2 + v[1], lambda v: v[0] * v[1] ** 2]
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    estimate = jacobian(functions, X)
    for k, f in enumerate(functions):
        assert np.array_equal(estimate.value[k], gradient(f, X).value)


def test_jacobian_passes_statuses_and_missing_errors_through() -> None:
    # A vanishing step: the status of the gradient, and NaN errors (a single difference estimates none).
    estimate = jacobian([lambda v: v[0] + v[1]], np.array([[1.0], [2.0]]), method="central", step=1e-300)
    assert (estimate.status == VANISHING_STEP).all()
    assert np.isnan(estimate.error).all()
    assert estimate.method == "central"


def test_jacobian_needs_one_list_of_columns_per_function() -> None:
    with pytest.raises(ValueError, match="2 functions but 1 lists of columns"):
        jacobian([np.sum, np.sum], np.ones((2, 1)), columns=[[0]])

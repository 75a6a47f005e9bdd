"""Check files: many derivative checks in one TOML file, run in one process (``numdiff check FILE``).

A check file is a list of ``[[check]]`` tables, with an optional ``[defaults]`` table whose keys every check
inherits::

    [defaults]
    rtol = 1e-8

    [[check]]
    name = "slope of sine"
    expr = "sin(x)"
    at = [0, "pi/2", 1]
    atol = 1e-10

A check compares the numerical derivative (``what = "derivative"`` of an ``order``, ``"gradient"`` or
``"hessian"``) with sympy's analytic one, or with ``expected`` values from the file; it passes when at every point
and component ``|numeric - reference| <= atol + rtol * |reference|`` (:func:`tolerance`, the rule of
``numpy.isclose``). Everything is read and checked before the first derivative is computed: a mistake in the
file is one :class:`CheckFileError` naming the file and line, never half a run.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from numdiff_cli.contract import METHODS, method_refusal
from numdiff_cli.errors import NumdiffError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the backport has the same interface
    import tomli as tomllib

if TYPE_CHECKING:
    import numpy as np

    from numdiff_cli.expr import Expression

WHATS = ("derivative", "gradient", "hessian")
KEYS = ("name", "expr", "at", "range", "what", "order", "wrt", "method", "atol", "rtol", "expected")
_HEADER = re.compile(r"^\s*\[\[\s*check\s*\]\]\s*(#.*)?$")
_DEFAULTS = re.compile(r"^\s*\[\s*defaults\s*\]\s*(#.*)?$")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Verdict:
    """One comparison held to ``bound = atol + rtol * |reference|``."""

    error: float
    bound: float
    atol: float
    rtol: float

    @property
    def passed(self) -> bool:
        return self.error <= self.bound  # NaN (no finite result) never passes

    def why(self, numeric: float, reference: float, name: str = "analytic") -> str:
        """The failure with its numbers: the error, the bound and how the bound was made."""
        return (
            f"|numeric - {name}| = {self.error:.3g} > bound {self.bound:.3g} = atol {self.atol:g} + rtol {self.rtol:g}"
            f" * |{name}| (numeric {numeric!r}, {name} {reference!r})"
        )


def tolerance(error: float, reference: float, atol: float | None, rtol: float | None) -> Verdict:
    """Hold ``error`` to ``atol + rtol * |reference|`` (a missing tolerance is 0), as ``numpy.isclose`` does.

    >>> tolerance(6e-17, 0.0, 1e-12, 1e-6).passed  # at a zero derivative only atol can pass
    True
    >>> tolerance(1e-7, 2.0, None, 1e-6).bound
    2e-06
    """
    atol, rtol = atol or 0.0, rtol or 0.0
    bound = atol + rtol * abs(reference) if math.isfinite(reference) else math.nan
    return Verdict(error, bound, atol, rtol)


class CheckFileError(NumdiffError):
    """A check file that cannot be read: ``FILE:LINE: what is wrong`` (exit status 2)."""


@dataclass(frozen=True)
class Check:
    """One ``[[check]]`` table, read and validated (tolerances default to 0; at least one is given)."""

    name: str
    line: int
    expr: str
    at: tuple[str, ...]
    range: str | None
    what: str
    order: int
    wrt: str | None
    method: str
    atol: float | None
    rtol: float | None
    expected: Any


@dataclass
class Outcome:
    """What running a check found: its verdict, the worst comparison, and the warnings of the engine."""

    check: Check
    passed: bool
    points: int
    worst_error: float
    bound: float
    message: str  # the failure with its numbers, or where the worst error is
    flags: list[tuple[str, int, str]] = field(default_factory=list)  # (where, status code, numbers) of each warning


def load(path: str) -> list[Check]:
    """The checks of the file at ``path``, validated; :class:`CheckFileError` for the first mistake."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise CheckFileError(f"{path}: cannot read the check file: {reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_LINE.search(message)
        line = match.group(1) if match else str(max(1, len(text.splitlines())) if "end of document" in message else 1)
        reason = _TOML_LINE.sub("", message).replace("(at end of document)", "at the end of the file").strip()
        raise CheckFileError(f"{path}:{line}: not valid TOML: {reason}") from None
    lines = text.splitlines()
    headers = [number for number, line in enumerate(lines, 1) if _HEADER.match(line)]
    defaults_line = next((number for number, line in enumerate(lines, 1) if _DEFAULTS.match(line)), 1)
    unknown = sorted(set(data) - {"check", "defaults"})
    if unknown:
        raise CheckFileError(
            f"{path}:1: unknown table {unknown[0]!r}; a check file has [defaults] and [[check]] tables"
        )
    tables = data.get("check")
    if not isinstance(tables, list) or not tables:
        raise CheckFileError(f"{path}:1: no checks; add [[check]] tables with expr, at and atol/rtol")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise CheckFileError(f"{path}:{defaults_line}: [defaults] must be a table")
    _known_keys(defaults, path, defaults_line, "[defaults]", exclude=("name",))
    if len(headers) != len(tables):  # e.g. an inline array of tables: fall back to the first line
        headers = [1] * len(tables)
    checks = [
        _check({**defaults, **table}, path, line, index) for index, (table, line) in enumerate(zip(tables, headers))
    ]
    names = [check.name for check in checks]
    for check in checks:
        if names.count(check.name) > 1:
            raise CheckFileError(f"{path}:{check.line}: the name {check.name!r} is used by more than one check")
    return checks


def _known_keys(table: dict[str, Any], path: str, line: int, where: str, exclude: Sequence[str] = ()) -> None:
    allowed = [key for key in KEYS if key not in exclude]
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(allowed)})"
            raise CheckFileError(f"{path}:{line}: unknown key {key!r} in {where}{hint}")


def _check(table: dict[str, Any], path: str, line: int, index: int) -> Check:
    where = f"check {table.get('name', index + 1)!r}"

    def fail(message: str) -> CheckFileError:
        return CheckFileError(f"{path}:{line}: {where}: {message}")

    _known_keys(table, path, line, where)
    name = table.get("name", f"check {index + 1}")
    expr = table.get("expr")
    if not isinstance(name, str) or not name.strip():
        raise fail("name must be a non-empty string")
    if not isinstance(expr, str) or not expr.strip():
        raise fail("expr (the expression, a string) is missing")
    at = table.get("at", [])
    at = [at] if isinstance(at, (str, int, float)) else at
    if not isinstance(at, list) or not all(isinstance(p, (str, int, float)) and not isinstance(p, bool) for p in at):
        raise fail('at must be a point or a list of points (numbers or strings such as "pi/2" or "x=1,y=2")')
    range_text = table.get("range")
    if range_text is not None and not isinstance(range_text, str):
        raise fail('range must be a string START:STOP:NUM, e.g. "0:1:11"')
    if not at and range_text is None:
        raise fail('no points: give at = [...] or range = "START:STOP:NUM"')
    what = table.get("what", "derivative")
    if what not in WHATS:
        raise fail(f"what must be one of {', '.join(WHATS)}, not {what!r}")
    order = table.get("order", 1)
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= 4:
        raise fail("order must be an integer from 1 to 4")
    if what != "derivative" and "order" in table:
        raise fail(f'order goes with what = "derivative" (a {what} has its own order)')
    method = table.get("method", "auto")
    if method not in METHODS:
        raise fail(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    wrt = table.get("wrt")
    if wrt is not None and (not isinstance(wrt, str) or what != "derivative"):
        raise fail('wrt is a variable name, for what = "derivative"')
    tolerances = []
    for key in ("atol", "rtol"):
        value = table.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0):
            raise fail(f"{key} must be a number >= 0")
        tolerances.append(None if value is None else float(value))
    if tolerances == [None, None]:
        raise fail("give a tolerance: atol and/or rtol (passes when |error| <= atol + rtol*|reference|)")
    points = tuple(str(p) for p in at)
    atol, rtol = tolerances
    return Check(name, line, expr, points, range_text, what, order, wrt, method, atol, rtol, table.get("expected"))


@dataclass
class Prepared:
    """A check with its expression parsed and its points read: all that can go wrong in the file has."""

    check: Check
    expression: Expression
    var: str | None
    X: np.ndarray
    expected: np.ndarray | None


def prepare(check: Check, path: str, use_cache: bool) -> Prepared:
    """Parse the expression, read the points and the expected values, refuse an unusable method."""
    import numpy as np

    from numdiff_cli.arraypoints import point_shapes
    from numdiff_cli.bound import bind
    from numdiff_cli.compiled import compile_text
    from numdiff_cli.points import point_chunks

    def fail(message: str) -> CheckFileError:
        return CheckFileError(f"{path}:{check.line}: check {check.name!r}: {message}")

    try:
        expression: Any = compile_text(check.expr, use_cache)
        if getattr(expression, "arrays", False):  # bound to the shapes its first point gives, as --at does
            expression = bind(
                expression, point_shapes(str(check.at[0]), expression.names, None) if check.at else {}, {}
            )
            if expression.value_shape:
                shape = str(expression.value_shape).replace(" ", "")
                raise fail(f"its value has shape {shape}; a check needs one number: take sum(...) of it")
        var = None
        if check.what == "derivative":
            var = check.wrt or (expression.names[0] if len(expression.names) == 1 else None)
            if var is None and not expression.names:
                var = "x"
            if var is None:
                raise fail(f"the expression has several variables ({', '.join(expression.names[:6])}); add wrt")
            if check.wrt is not None and check.wrt not in expression.names:
                raise fail(f"{check.wrt} does not occur in the expression")
            expression = expression.with_variable(var)
        elif not expression.names:
            raise fail(f"the expression has no variables: it has no {check.what}")
        chunks = list(point_chunks(check.at, check.range, expression.names, expression.shapes, sys.stdin))
    except NumdiffError as error:
        if isinstance(error, CheckFileError):
            raise
        raise fail(str(error)) from None
    if "-" in (p.strip() for p in check.at):
        raise fail('at = "-" (standard input) is not for check files; list the points')
    X = np.concatenate([chunk.values for chunk in chunks], axis=1)
    order = {"derivative": check.order, "gradient": 1, "hessian": 2}[check.what]
    refusal = method_refusal(check.method, order=order, analytic=expression.analytic, order_option=False)
    if refusal is not None:
        raise fail(refusal.replace("--method ", "method ").replace("--order 1", "order = 1"))
    expected = None
    if check.expected is not None:
        expected = _expected(check.expected, X.shape[1], len(expression.names), check.what, fail)
    return Prepared(check, expression, var, X, expected)


def _expected(value: Any, n: int, m: int, what: str, fail: Any) -> np.ndarray:
    """``expected`` as an array of shape ``(*per_point, n)``: one value for all points, or one per point."""
    import numpy as np

    from numdiff_cli.points import read_number

    def number(item: Any) -> Any:
        if isinstance(item, list):
            return [number(part) for part in item]
        if isinstance(item, bool) or not isinstance(item, (int, float, str)):
            raise fail('expected must hold numbers (or strings such as "pi/2")')
        try:
            return float(item) if not isinstance(item, str) else read_number(item, "expected")
        except NumdiffError as error:
            raise fail(str(error)) from None

    try:
        array = np.asarray(number(value), dtype=float)
    except ValueError:
        raise fail("expected is not a regular list of numbers") from None
    shape = {"derivative": (), "gradient": (m,), "hessian": (m, m)}[what]
    if array.shape == shape:
        return np.repeat(array[..., None], n, axis=-1)
    if array.shape == (n, *shape):
        return np.moveaxis(array, 0, -1)
    described = {"derivative": "a number", "gradient": f"a list of {m}", "hessian": f"a {m}x{m} matrix"}[what]
    raise fail(f"expected must be {described} (for every point) or a list of {n} of them (one per point)")


def run(prepared: Prepared, use_cache: bool) -> Outcome:
    """Compute the check: numerical values, references, and the worst comparison against its bound."""
    import numpy as np

    from numdiff_cli import engine
    from numdiff_cli.contract import OK
    from numdiff_cli.derivatives import derivative_of, hessian_of

    check, expression, X = prepared.check, prepared.expression, prepared.X
    if check.what == "derivative":
        assert prepared.var is not None
        estimate = derivative_of(expression, X, prepared.var, order=check.order, method=check.method, step=None)
    elif check.what == "gradient":
        estimate = engine.gradient(
            expression.function,
            X,
            method=check.method,
            check_step=True,
            analytic=expression.analytic,
            check_kink=not expression.smooth,
        )
    else:
        estimate = hessian_of(expression, X, method=check.method, step=None)
    numeric = np.asarray(estimate.value, dtype=float)
    name = "expected" if prepared.expected is not None else "analytic"
    reference = prepared.expected if prepared.expected is not None else _analytic(prepared, use_cache)
    error = np.abs(numeric - reference)
    bound = (check.atol or 0.0) + (check.rtol or 0.0) * np.abs(reference)
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(np.isfinite(error) & np.isfinite(bound), error - bound, np.inf)
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
    passed = bool((excess <= 0).all())
    point = _describe_point(expression, X[:, worst[-1]])
    component = _component(check.what, expression.names, worst[:-1])
    verdict = Verdict(float(error[worst]), float(bound[worst]), check.atol or 0.0, check.rtol or 0.0)
    where = f"{check.expr} at {point}{component}, method {estimate.method}"
    message = where if passed else f"{where}: {verdict.why(float(numeric[worst]), float(reference[worst]), name)}"
    flags = []
    for j in np.nonzero((estimate.status != OK).reshape(-1, X.shape[1]).any(axis=0))[0].tolist():
        code = next(int(c) for c in estimate.status[..., j].ravel().tolist() if c != OK)
        where = f"{check.expr} at {_describe_point(expression, X[:, j])}, method {estimate.method}"
        value, estimated = numeric[..., j].ravel()[0], np.asarray(estimate.error)[..., j].ravel()[0]
        flags.append((where, code, f" (numeric {value:.6g}, error estimate {estimated:.3g})"))
    return Outcome(check, passed, X.shape[1], verdict.error, verdict.bound, message, flags)


def _analytic(prepared: Prepared, use_cache: bool) -> np.ndarray:
    """sympy's derivative at 30 digits, as floats of the numeric result's shape (NaN where undefined)."""
    import numpy as np

    from numdiff_cli.analytic import Analytic
    from numdiff_cli.components import expanded

    check, expression, X = prepared.check, prepared.expression, prepared.X
    names = expression.names

    def values(of: Any, var: str, order: int, cache: bool = use_cache) -> np.ndarray:
        return np.array([float(v) for v in Analytic.of(of, var, order, cache).values(X)], dtype=float)

    if check.what == "derivative":
        assert prepared.var is not None
        return values(expression, prepared.var, check.order)
    if check.what == "gradient":
        return np.stack([values(expression, name, 1) for name in names])
    if getattr(expression, "arrays", False):
        parsed = expanded(expression)  # array values, written out by components
    else:
        parsed = expression.expression() if hasattr(expression, "expression") else expression
    result = np.empty((len(names), len(names), X.shape[1]))
    for i, name in enumerate(names):
        result[i, i] = values(expression, name, 2)
        partial = dataclasses.replace(parsed, tree=parsed.tree.diff(parsed.symbols[i]), text=f"d/d{name} {check.expr}")
        for j in range(i + 1, len(names)):
            result[i, j] = result[j, i] = values(partial, names[j], 1, cache=False)
    return result


def _describe_point(expression: Any, column: np.ndarray) -> str:
    from numdiff_cli.render import describe

    if len(expression.names) == 1 and not expression.shapes:
        return describe(float(column[0]))
    return describe(dict(zip(expression.names, column.tolist())))


def _component(what: str, names: Sequence[str], index: tuple[Any, ...]) -> str:
    if what == "gradient":
        return f" (d/d{names[int(index[0])]})"
    if what == "hessian":
        return f" (d2/d{names[int(index[0])]}d{names[int(index[1])]})"
    return ""


def junit_xml(outcomes: Sequence[Outcome], path: str, seconds: float, warnings: dict[str, list[str]]) -> str:
    """A JUnit XML report: one testsuite for the file, one testcase per check, a failure element for each failure.

    ``warnings`` (check name -> the warning lines) go to the test case's ``system-err``.
    """
    failures = sum(not outcome.passed for outcome in outcomes)
    suites = ElementTree.Element(
        "testsuites", tests=str(len(outcomes)), failures=str(failures), errors="0", time=f"{seconds:.3f}"
    )
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        name=f"numdiff check {path}",
        tests=str(len(outcomes)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{seconds:.3f}",
    )
    for outcome in outcomes:
        case = ElementTree.SubElement(
            suite, "testcase", name=outcome.check.name, classname=path, file=path, line=str(outcome.check.line)
        )
        if not outcome.passed:
            failure = ElementTree.SubElement(case, "failure", message=outcome.message, type="ToleranceExceeded")
            failure.text = outcome.message
        if warnings.get(outcome.check.name):
            ElementTree.SubElement(case, "system-err").text = "\n".join(warnings[outcome.check.name])
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def github_annotation(outcome: Outcome, path: str) -> str:
    """``::error file=...,line=...,title=...::message``: a failure shown on the check's line of the file."""

    def escape(text: str, properties: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if properties else text

    title = escape(f"numdiff check {outcome.check.name}", properties=True)
    return f"::error file={escape(path, True)},line={outcome.check.line},title={title}::{escape(outcome.message)}"

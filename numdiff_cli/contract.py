"""The facts of numdiff's interface, in one place and without numpy: methods, formats, status codes, output keys.

Everything here is plain Python data, so the command-line layer can declare its options from it while ``--help``
imports nothing heavier than click, and the engine can check its arguments against the same tables. A new method
or output format is a row here plus the module that implements it (see CONTRIBUTING.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    """What a numerical method can do.

    ``stencil`` is the finite-difference stencil the method uses when it is given a fixed step (``auto`` with
    ``--h``, or in float32, is a plain central difference); ``None`` for the complex step, which has none.
    """

    name: str
    stencil: str | None
    max_order: int  # highest derivative order it computes
    analytic_only: bool  # needs a complex-analytic expression (no abs, sign, step, relu, ...)
    float32: bool  # usable with --dtype float32
    help: str


METHOD_TABLE: tuple[Method, ...] = (
    Method("auto", "central", 4, False, True, "adaptive Richardson extrapolation with an error estimate"),
    Method("central", "central", 4, False, True, "one finite difference"),
    Method("forward", "forward", 4, False, True, "one finite difference"),
    Method("backward", "backward", 4, False, True, "one finite difference"),
    Method("complex", None, 1, True, False, "complex step (analytic expressions only)"),
)
METHODS: tuple[str, ...] = tuple(method.name for method in METHOD_TABLE)
METHOD = {method.name: method for method in METHOD_TABLE}
MAX_ORDER = max(method.max_order for method in METHOD_TABLE)

# Status codes, one per result: what the engine found (numdiff_cli.numerics sets them; the command line words them,
# in numdiff_cli.cli.output, the one place where a status becomes a sentence).
OK = 0
NONFINITE = 1  # no finite estimate: the point or every step left the function's domain
VANISHING_STEP = 2  # x + h == x: the step is lost in rounding and the difference means nothing
UNRELIABLE = 3  # the best estimates disagree: no error estimate can be trusted
NOT_REAL = 4  # complex step: f is not real-analytic here (branch cut, outside the real domain)
STEP_TOO_LARGE = 5  # the given step is so large that the difference does not approximate a derivative
IMPRECISE = 6  # auto: the estimate is consistent, but its error estimate exceeds PRECISION[order] (relative)
KINK = 7  # auto: the slopes on the left and on the right of x differ (abs or relu at 0): no derivative
OVERFLOW = 8  # f is finite near x but its derivative is larger than the largest double
KINK_BELOW = 9  # auto, orders 2-4: f or a derivative of lower order has a kink at x (x*abs(x) at 0, order 2)

# Exit statuses (README, "Exit status"): the one table every command and numdiff_cli.cli.output follow.
EXIT_OK = 0
EXIT_FAILED = 1  # a check failed: compare --atol/--rtol, numdiff check
EXIT_USAGE = 2  # bad usage, a malformed expression or check file, an unreadable point
EXIT_UNVOUCHED = 3  # a result the engine cannot vouch for (a warning); with a tolerance the check decides (--strict)

FORMATS: tuple[str, ...] = ("auto", "table", "plain", "json", "csv")
DTYPES: tuple[str, ...] = ("float64", "float32")


def methods_help() -> str:
    """The methods and what each does, in table order; methods with the same help are named together."""
    groups: list[tuple[list[str], str]] = []
    for method in METHOD_TABLE:
        if groups and groups[-1][1] == method.help:
            groups[-1][0].append(method.name)
        else:
            groups.append(([method.name], method.help))
    return "; ".join(f"{'/'.join(names)}: {text}" for names, text in groups) + "."


def fixed_step_kind(method: str) -> str:
    """The stencil a method uses with a fixed step: ``auto`` then means ``central``."""
    kind = METHOD[method].stencil
    if kind is None:
        raise ValueError(f"method {method!r} has no finite-difference stencil")
    return kind


def method_refusal(
    method: str, *, order: int = 1, analytic: bool = True, dtype: str = "float64", order_option: bool = True
) -> str | None:
    """Why ``method`` cannot compute this derivative (a sentence naming the options to change), or ``None``.

    ``order_option=False`` is for a command whose derivative order is fixed (``hessian``): the sentence then
    names another method instead of ``--order``.
    """
    capability = METHOD[method]
    if capability.analytic_only and not analytic:
        return (
            f"--method {method} needs an analytic expression; abs, sign, step, relu and similar functions"
            " are not (use --method auto or central)"
        )
    if order > capability.max_order:
        remedy = "use --order 1 or another method" if order_option else "use --method auto or central"
        return f"--method {method} computes first derivatives only; {remedy}"
    if dtype != "float64" and not capability.float32:
        usable = [m.name for m in METHOD_TABLE if m.float32 and m.name != "auto"]
        return f"--dtype {dtype} works with --method {', '.join(usable)} or auto (central)"
    return None


# The keys of each command's JSON objects and CSV columns, in order (a "warning" key/column is added after them).
KEYS: dict[str, tuple[str, ...]] = {
    "diff": ("expr", "var", "at", "order", "method", "h", "derivative", "error"),
    "grad": ("expr", "vars", "at", "gradient", "error"),
    "tangent": ("expr", "at", "value", "slope", "intercept", "equation"),
    "tangent-plane": ("expr", "at", "value", "gradient", "equation"),
    "compare": ("expr", "at", "analytic_expr", "analytic", "numeric", "abs_error", "rel_error", "method", "h"),
    # compare with --atol/--rtol: each row is a check, held to bound = atol + rtol * |analytic|
    "compare-check": (
        "expr",
        "at",
        "analytic_expr",
        "analytic",
        "numeric",
        "abs_error",
        "rel_error",
        "method",
        "h",
        "bound",
        "passed",
    ),
    # numdiff check FILE, --format json/csv: one object per check
    "check": ("name", "line", "passed", "what", "points", "worst_error", "bound", "method", "message"),
    "sweep": ("expr", "at", "method", "dtype", "h", "numeric", "analytic", "abs_error", "rel_error", "note"),
    "hessian": ("expr", "vars", "at", "hessian", "error"),
    "jacobian": ("expr", "vars", "at", "jacobian", "error"),
    "descend": ("expr", "start", "lr", "steps", "at", "value", "gradient_norm", "converged", "diverged"),
}

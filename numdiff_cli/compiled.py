"""Expressions compiled to numpy code, from the per-user cache or freshly parsed.

:func:`compile_text` is how the CLI gets the function of an expression: the numpy code printed from the parsed
expression (:mod:`numdiff_cli.codegen`) is what the per-user cache (:mod:`numdiff_cli.cache`) stores, so that a
repeated call skips sympy entirely; code read back from the cache is checked against the whitelist before it is
loaded, exactly like freshly printed code. Importing this module does not import sympy; the parser is imported
only when an expression has to be parsed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from numdiff_cli.codegen import NUMPY_NAMES, UnsafeCode, check_code, numpy_code, numpy_function

if TYPE_CHECKING:
    from numdiff_cli.expr import Expression


# The parser's limits (builder.MAX_LENGTH, builder.MAX_VARIABLES; a test checks that they agree), repeated here
# because the builder imports sympy and a cached run must not.
MAX_LENGTH = 10_000
MAX_VARIABLES = 1_000


@dataclass(frozen=True)
class Compiled:
    """An expression compiled to numpy code, with what the CLI needs to know about it.

    Offers the same interface as :class:`numdiff_cli.expr.Expression` for ``names``, ``shapes``, ``analytic``,
    ``smooth``, ``function``, ``with_variable`` and ``reordered``; the last two are free (no sympy) when they only
    permute the variables, and otherwise parse the text again.
    """

    text: str
    names: tuple[str, ...]  # variable order, as in Expression.names
    shapes: dict[str, tuple[int, ...]]
    analytic: bool
    args: tuple[str, ...]  # the variable bound to each argument _0, _1, ... of ``code``
    code: str
    arrays: bool = False  # array values: bound to the shapes of a point by numdiff_cli.bound before use
    smooth: bool = False  # no kinks: see Expression.smooth
    parsed: Expression | None = field(default=None, compare=False, repr=False)

    @cached_property
    def function(self) -> Callable[[np.ndarray], np.ndarray]:
        """``F(X)`` with ``X`` of shape ``(len(names), *batch)`` returning values of shape ``batch``."""
        if self.arrays:
            from numdiff_cli.bound import bind

            return bind(self, {}, {}).function
        return numpy_function(self.code, [self.names.index(name) for name in self.args])

    def expression(self) -> Expression:
        """The sympy expression (parsed again when this came from the cache)."""
        if self.parsed is None:
            from numdiff_cli.expr import parse_expression

            parsed = parse_expression(self.text).reordered(self.names)
            object.__setattr__(self, "parsed", parsed)
        assert self.parsed is not None
        return self.parsed

    def with_variable(self, name: str) -> Compiled:
        if name in self.names:
            return self
        return from_expression(self.expression().with_variable(name))

    def reordered(self, order: tuple[str, ...]) -> Compiled:
        if len(order) == len(self.names) and set(order) == set(self.names):
            parsed = self.parsed.reordered(order) if self.parsed is not None else None
            return replace(self, names=tuple(order), parsed=parsed)
        return from_expression(self.expression().reordered(order))

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "names": list(self.names),
            "shapes": {base: list(shape) for base, shape in self.shapes.items()},
            "analytic": self.analytic,
            "args": list(self.args),
            "code": self.code,
            "arrays": self.arrays,
            "smooth": self.smooth,
        }

    @classmethod
    def from_json(cls, data: Any) -> Compiled:
        """Rebuild from :meth:`to_json` output, checking every field (and the code, see :func:`check_code`)."""
        try:
            text, code, analytic, arrays = data["text"], data["code"], data["analytic"], data["arrays"]
            smooth = data["smooth"]
            names = tuple(data["names"])
            args = tuple(data["args"])
            shapes = {str(base): tuple(int(n) for n in shape) for base, shape in data["shapes"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise UnsafeCode(f"malformed entry: {type(error).__name__}") from None
        if not (
            isinstance(text, str)
            and isinstance(code, str)
            and all(isinstance(flag, bool) for flag in (analytic, arrays, smooth))
        ):
            raise UnsafeCode("malformed entry")
        if not all(isinstance(n, str) for n in names) or not set(args) <= set(names):
            raise UnsafeCode("malformed variable names")
        _check_variables(text, names, args, shapes)
        check_code(code, len(args), NUMPY_NAMES)
        return cls(text, names, shapes, analytic, args, code, arrays, smooth)


def _check_variables(
    text: str, names: tuple[str, ...], args: tuple[str, ...], shapes: dict[str, tuple[int, ...]]
) -> None:
    """The bounds the parser puts on variables, checked again on an entry read from the cache."""
    if len(text) > MAX_LENGTH or len(names) > MAX_VARIABLES or len(set(names)) != len(names):
        raise UnsafeCode("malformed variables")
    if len(set(args)) != len(args):
        raise UnsafeCode("an argument is bound twice")
    for base, shape in shapes.items():
        if not shape or any(size < 1 for size in shape) or math.prod(shape) > MAX_VARIABLES:
            raise UnsafeCode(f"malformed shape of {base!r}")
        components = [name for name in names if name.startswith(base + "[")]
        if len(components) != math.prod(shape):
            raise UnsafeCode(f"the shape of {base!r} does not match its components")


def from_expression(expression: Expression) -> Compiled:
    """Compile a validated expression; raises :class:`UnsafeCode` if its code falls outside the whitelist."""
    code = numpy_code(expression.tree, expression.symbols)
    check_code(code, len(expression.names), NUMPY_NAMES)
    return Compiled(
        expression.text,
        expression.names,
        dict(expression.shapes),
        expression.analytic,
        expression.names,
        code,
        expression.arrays,
        expression.smooth,
        expression,
    )


def compile_text(text: str, use_cache: bool) -> Compiled | Expression:
    """The expression ``text`` compiled to numpy code: from the per-user cache, or parsed and then cached.

    Raises :class:`numdiff_cli.errors.ExpressionError` for a malformed expression (never cached). An
    expression whose code falls outside the whitelist (none that the parser builds today) is returned as the
    parsed :class:`~numdiff_cli.expr.Expression`, which evaluates through sympy's lambdify, and is not cached.
    """
    from numdiff_cli import cache

    entry_key = cache.key("numpy", text)
    if use_cache:
        data = cache.load(entry_key)
        if data is not None:
            try:
                compiled = Compiled.from_json(data)
                if compiled.text == text:
                    return compiled
            except UnsafeCode:
                pass  # corrupt or foreign: rebuilt and overwritten below
    from numdiff_cli.expr import parse_expression

    expression = parse_expression(text)
    try:
        compiled = from_expression(expression)
    except UnsafeCode:
        return expression
    if use_cache:
        cache.store(entry_key, compiled.to_json())
    return compiled

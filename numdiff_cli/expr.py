"""User text -> validated sympy expression, its variables, and a vectorized numpy callable.

The text is checked as text first (characters, implicit multiplication, nesting, :mod:`numdiff_cli.structure`),
then parsed by Python's ``ast`` module and walked against a whitelist of node types, names and functions
(:class:`numdiff_cli.builder.Builder`); sympy objects are built from that walk. ``eval``, ``exec``, ``sympify``
and ``parse_expr`` never see user text, and lambdify only ever sees the sympy tree built there, with symbols that
we created.
"""

from __future__ import annotations

import ast
import keyword
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from numdiff_cli.builder import (
    MAX_CHAIN,
    MAX_DEPTH,
    MAX_LENGTH,
    Builder,
    internal_name,
    invalid,
    is_plain_name,
    natural_key,
)
from numdiff_cli.codegen import UnsafeCode, lambdify, numpy_code, numpy_function, real_values
from numdiff_cli.errors import ExpressionError, NumdiffError
from numdiff_cli.floats import BUILDERS, NODES
from numdiff_cli.functions import ARRAY_FUNCTIONS
from numdiff_cli.structure import check_structure

_NUMBER = re.compile(r"(?<![\w.])(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_NAME = re.compile(r"[A-Za-z_]\w*")
_LOOKALIKES = {
    "\u2212": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00d7": "*",
    "\u22c5": "*",
    "\u00b7": "*",
    "\u00f7": "/",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00b2": "**2",
    "\u00b3": "**3",
    "\u03c0": "pi",
}
# Names that would read as something else (sympy/numpy constants, imaginary units) are not variables.
# max(x) and min(x) of one argument build a node of their own (two arguments build sympy's Max and Min).
_EXTREMES = tuple(type(BUILDERS[name](sp.Symbol("x"))) for name in ("max", "min"))
_NON_ANALYTIC = (*(node for node, row in NODES.items() if not row.analytic), sp.Max, sp.Min, sp.Piecewise, *_EXTREMES)
_NOT_SMOOTH = (*(node for node, row in NODES.items() if not row.smooth), *_NON_ANALYTIC)


def _smooth_node(node: sp.Expr) -> bool:
    """Whether a node of a function that is not smooth on the whole line is real-analytic at every value its
    argument takes (its row's ``smooth_if``, proven by sympy: ``log(1 + x**2)``, ``log(softmax(z))``)."""
    row = NODES.get(type(node))
    return (
        row is not None and row.smooth_if is not None and all(row.smooth_if(argument) is True for argument in node.args)
    )


@dataclass(frozen=True)
class Expression:
    """A validated expression: its text, sympy tree and ordered variables."""

    text: str
    tree: sp.Expr
    names: tuple[str, ...]  # component names in variable order, e.g. ("x[0]", "x[1]", "y")
    symbols: tuple[sp.Symbol, ...]
    shapes: dict[str, tuple[int, ...]]  # indexed base name -> shape, e.g. {"W": (2, 2)}
    # Array values (sum, @, slices, ...): every variable is an array whose shape its point gives, and x[0] is an
    # element of x (numdiff_cli.bound binds the shapes). Otherwise x[0] is a variable of its own, as are W[0,1].
    arrays: bool = False

    @property
    def analytic(self) -> bool:
        """False when the expression uses a function that is not complex-analytic (abs, sign, step, ...)."""
        return not self.tree.has(*_NON_ANALYTIC)

    @property
    def smooth(self) -> bool:
        """False when the expression may have a kink (slopes on the left and on the right that differ): it uses a
        function that is not real-analytic on the whole real line (abs, max, relu, cbrt, acos, log, ...: the
        table's ``smooth``), a power whose exponent is not an integer (``(x**2 + y**2)**0.5`` at 0 is a cone), or a
        negative power of a variable (a pole, which a bounded function makes a kink of: ``x*tanh(1/x)`` is |x|
        near 0); powers of constants are constants or exponentials (``2**x``). What is left, polynomials of exp,
        sin, cos, sinh, cosh, tanh, atan, asinh, expm1, sums, products, softmax, logsumexp and matrix products, is
        real-analytic everywhere; so are those functions, and any power, of an argument that sympy proves inside
        the domain where they are (``log(1 + x**2)``, ``1/(1 + exp(-x))``, ``log(softmax(z))``, ``(x**2 + 1)**0.5``:
        the rows' ``smooth_if``)."""
        return all(_smooth_node(node) for node in self.tree.atoms(*_NOT_SMOOTH)) and all(
            (power.exp.is_integer and power.exp.is_nonnegative) or not power.base.free_symbols or power.base.is_positive
            for power in self.tree.atoms(sp.Pow)
        )

    @cached_property
    def function(self) -> Callable[[np.ndarray], np.ndarray]:
        """``F(X)`` with ``X`` of shape ``(len(names), *batch)`` returning values of shape ``batch``."""
        if self.arrays:
            from numdiff_cli.bound import bind

            return bind(self, {}, {}).function
        try:
            # The same printer as lambdify, without lambdify's slow import of numpy's whole namespace.
            return numpy_function(numpy_code(self.tree, self.symbols), range(len(self.names)))
        except UnsafeCode:
            pass
        raw = lambdify(self.symbols, self.tree)

        def evaluate(points: np.ndarray) -> np.ndarray:
            return real_values(lambda: raw(*points), points)

        return evaluate

    def with_variable(self, name: str) -> Expression:
        """The same expression, with ``name`` added as a variable if it does not occur (derivative 0)."""
        if name in self.names:
            return self
        if not is_plain_name(name):
            what = internal_name(name) if name.isidentifier() and name.isascii() else None
            reason = f"it is {what}" if what else "it must be a plain name such as x or theta"
            raise ExpressionError(f"invalid variable name {name!r}: {reason}")
        symbols = dict(zip(self.names, self.symbols))
        symbols[name] = sp.Symbol(name, real=True)
        indexed = [n for n in self.names if "[" in n]
        plain = sorted((n for n in symbols if "[" not in n), key=natural_key)
        return self._with(tuple(indexed + plain), symbols)

    def reordered(self, order: tuple[str, ...]) -> Expression:
        """The same expression with its variables in ``order`` (names not in the expression are added)."""
        expression = self
        for name in order:
            expression = expression.with_variable(name)
        missing = [name for name in expression.names if name not in order]
        if missing:
            raise ExpressionError(f"--vars must list every variable; missing {', '.join(missing[:6])}")
        return expression._with(tuple(order), dict(zip(expression.names, expression.symbols)))

    def _with(self, names: tuple[str, ...], symbols: dict[str, sp.Symbol]) -> Expression:
        return Expression(self.text, self.tree, names, tuple(symbols[n] for n in names), self.shapes, self.arrays)


def _check_characters(text: str) -> None:
    for index, char in enumerate(text):
        if char == "#":
            # Python would drop the rest of the text as a comment: 'x # + 1' must not quietly mean 'x'.
            raise invalid(text, "'#' is not allowed (comments are not supported)", index + 1)
        if char.isascii() and (char.isprintable() or char in " \t"):
            continue
        column = index + 1
        if char in _LOOKALIKES:
            raise invalid(
                text, f"character {char!r} (U+{ord(char):04X}) is not allowed; write {_LOOKALIKES[char]!r}", column
            )
        if not char.isprintable() or char.isspace():
            raise invalid(text, f"control character U+{ord(char):04X} is not allowed", column)
        raise invalid(text, f"character {char!r} (U+{ord(char):04X}) is not allowed; use ASCII", column)


def _check_implicit_multiplication(text: str) -> None:
    for number in _NUMBER.finditer(text):
        name = _NAME.match(text, number.end())
        if not name:
            continue
        literal, column = number.group(), number.start() + 1
        if name.group()[0] in "jJ" and len(name.group()) == 1:
            raise invalid(text, "complex numbers are not supported", column)
        if literal == "0" and name.group()[0] in "xXoObB":
            raise invalid(text, "hexadecimal, octal and binary numbers are not supported", column)
        if name.group()[0] == "_":
            raise invalid(
                text, f"'_' in numbers is not supported; write {literal}{name.group().replace('_', '')}", column
            )
        raise invalid(
            text,
            f"implicit multiplication '{literal}{name.group()}' is not supported; write '{literal}*{name.group()}'",
            column,
        )


def _check_nesting(text: str) -> None:
    depth = 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
            if depth > MAX_DEPTH:
                raise invalid(text, f"nested deeper than {MAX_DEPTH} levels", index + 1)
        elif char in ")]":
            depth -= 1


def _syntax_error(text: str, error: SyntaxError, origin: list[int]) -> ExpressionError:
    for name in _NAME.finditer(text):
        if keyword.iskeyword(name.group()) and name.group() not in ("True", "False", "None"):
            return invalid(text, f"'{name.group()}' is a Python keyword, not a variable or function", name.start() + 1)
    offset = (error.offset or 0) - 1  # 0 or None: the error is at the end of the text
    message = error.msg or "invalid syntax"
    if "never closed" in message or "unmatched" in message or "does not match" in message:
        column = origin[offset] + 1 if offset < len(origin) else len(text) + 1
        reason = message.replace("was never closed", "is never closed")
        return invalid(text, reason, column)
    stripped = text.rstrip()
    if offset < 0 or offset >= len(origin) or not text[origin[offset] :].strip():
        last = stripped.split()[-1] if stripped.split() else stripped
        tail = re.findall(r"\*\*|[-+*/^(\[,=]|\w+|.", last)
        return invalid(text, f"expression ends after '{tail[-1] if tail else last}'", len(stripped) + 1)
    column = origin[offset] + 1
    token = re.match(r"\*\*|[\w.]+|\S", text[column - 1 :])
    shown = token.group(0) if token else text[column - 1]
    before = text[: column - 1].rstrip()
    if before and (before[-1].isalnum() or before[-1] in "_.)]") and (shown[0].isalnum() or shown[0] in "_.("):
        return invalid(text, f"missing operator before '{shown}'", column)
    return invalid(text, f"unexpected '{shown}'", column)


def parse_expression(text: str) -> Expression:
    """Parse and validate user text into an :class:`Expression`.

    Raises
    ------
    ExpressionError
        With a one-line message naming the problem and its column.
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"invalid expression: too long ({len(text)} characters; the limit is {MAX_LENGTH})")
    if not text.strip():
        raise invalid(text, "the expression is empty")
    _check_characters(text)
    _check_implicit_multiplication(text)
    # '^' means power; keep a map from each character of the rewritten text to its column in the original.
    rewritten: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = "**" if char == "^" else char
        rewritten.append(piece)
        origin.extend([index] * len(piece))
    source = "".join(rewritten)
    # Leading blanks are allowed, as trailing ones are (Python's parser takes them for an indentation); the map
    # keeps the columns of the rest.
    blanks = len(source) - len(source.lstrip(" \t"))
    source, origin = source[blanks:], origin[blanks:]
    if problem := check_structure(source, origin, MAX_DEPTH, MAX_CHAIN):
        raise invalid(text, *problem)
    # Brackets alone, where the structure pass stopped early on text that is not an expression (its column comes
    # after the structure pass's, which counts operators as levels too: -(-(... is 101 deep at its 101st character).
    _check_nesting(text)
    try:
        with warnings.catch_warnings():
            # Python warns about some token pairs ("0x1for") and string escapes; the text gets its own error.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(text, error, origin) from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise invalid(text, f"too complex to parse ({type(error).__name__})") from None
    builder = Builder(text, origin, array_mode(tree))
    try:
        result = builder.build(tree.body, depth=0)
    except NumdiffError:
        raise
    except Exception as error:
        # A combination that sympy refuses to build: besides ValueError and TypeError, sympy raises exceptions
        # of its own (GeneratorsNeeded and the other polynomial errors derive from Exception only). Not expected
        # (the fuzz tests look for them), but an answer rather than an internal error.
        raise invalid(text, f"sympy cannot represent it ({type(error).__name__})") from None
    if not isinstance(result, sp.Expr):
        raise invalid(text, "not a numeric expression")
    if builder.arrays:
        # The whole value in the shape of its text too (x*0 + sum(x) is a vector, as in numpy).
        (result,) = builder.keeps_variables((tree.body,), [result])
    return Expression(text, result, *builder.variables(), builder.arrays)


def array_mode(tree: ast.AST) -> bool:
    """True when the text works on array values: it calls an array function (sum, dot, softmax, ...), uses
    ``@`` or a slice, or uses a name both plain and indexed (``x[0] * sum(x)``)."""
    plain, indexed, bases = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ARRAY_FUNCTIONS:
            return True
        if isinstance(node, ast.Slice) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult)):
            return True
        if isinstance(node, ast.Subscript):
            if not isinstance(node.value, ast.Name):
                return True
            indexed.add(node.value.id)
            bases.add(id(node.value))
        elif isinstance(node, ast.Name) and id(node) not in bases:
            plain.add(node.id)
    return bool(plain & indexed)


def evaluate_constant(text: str) -> float:
    """Value of a constant expression such as ``pi/4`` or ``-1.5e3`` (no variables allowed)."""
    expression = parse_expression(text)
    if expression.names:
        raise ExpressionError(f"invalid number {text!r}: it contains the variable '{expression.names[0]}'")
    value = expression.function(np.zeros((0,)))
    return float(np.real(value))

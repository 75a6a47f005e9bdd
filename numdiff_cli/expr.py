"""User text -> validated sympy expression, its variables, and a vectorized numpy callable.

The text is parsed by Python's ``ast`` module and the tree is walked against a whitelist of node types, names
and functions; sympy objects are built from that walk. ``eval``, ``exec``, ``sympify`` and ``parse_expr`` never
see user text, and lambdify only ever sees the sympy tree built here, with symbols that we created.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from numdiff_cli.errors import ExpressionError

MAX_LENGTH = 10_000
MAX_DEPTH = 100
MAX_NODES = 20_000
MAX_LITERAL_DIGITS = 100
MAX_NAME_LENGTH = 64
MAX_INDEX = 100_000
MAX_VARIABLES = 10_000
# An exact integer power larger than this many bits is refused instead of being computed by sympy.
MAX_POWER_BITS = 10_000

# A numeric literal (matched whole, exponent included) and what follows it.
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
_RESERVED_NAMES = frozenset({"nan", "inf", "infinity", "oo", "zoo", "I", "j", "i"})
_NON_ANALYTIC = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min, sp.Piecewise)


class cbrt(sp.Function):
    """Real cube root (negative for negative arguments), unlike sympy's principal ``x**(1/3)``."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return 1 / (3 * cbrt(self.args[0]) ** 2)

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        arg = self.args[0]._eval_evalf(prec)
        if arg is None or not arg.is_real:
            return None
        return sp.sign(arg) * sp.Abs(arg) ** sp.Rational(1, 3)


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def _relu(x: sp.Expr) -> sp.Expr:
    return sp.Max(0, x)


def _log(x: sp.Expr, base: sp.Expr | None = None) -> sp.Expr:
    return sp.log(x) if base is None else sp.log(x) / sp.log(base)


# name -> (builder, allowed argument counts)
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], tuple[int, ...]]] = {
    "sin": (sp.sin, (1,)),
    "cos": (sp.cos, (1,)),
    "tan": (sp.tan, (1,)),
    "asin": (sp.asin, (1,)),
    "acos": (sp.acos, (1,)),
    "atan": (sp.atan, (1,)),
    "sinh": (sp.sinh, (1,)),
    "cosh": (sp.cosh, (1,)),
    "tanh": (sp.tanh, (1,)),
    "exp": (sp.exp, (1,)),
    "log": (_log, (1, 2)),
    "ln": (sp.log, (1,)),
    "log10": (lambda x: sp.log(x) / sp.log(10), (1,)),
    "log2": (lambda x: sp.log(x) / sp.log(2), (1,)),
    "sqrt": (sp.sqrt, (1,)),
    "cbrt": (cbrt, (1,)),
    "abs": (sp.Abs, (1,)),
    "sign": (sp.sign, (1,)),
    "sigmoid": (_sigmoid, (1,)),
    "relu": (_relu, (1,)),
    "step": (sp.Heaviside, (1,)),
}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "e": sp.E, "E": sp.E}

_OPERATORS: dict[type, str] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Not: "not",
    ast.Invert: "~",
}
_NODE_NAMES: dict[type, str] = {
    ast.Attribute: "attribute access is",
    ast.Compare: "comparisons are",
    ast.BoolOp: "'and'/'or' are",
    ast.IfExp: "conditional expressions are",
    ast.Lambda: "lambda is",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.List: "lists are",
    ast.Tuple: "tuples (a bare comma) are",
    ast.Set: "sets are",
    ast.Dict: "dictionaries are",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.NamedExpr: "':=' is",
    ast.Starred: "starred arguments are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
    ast.Slice: "slices are",
}


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that orders ``x2`` before ``x10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _fail(text: str, reason: str, column: int | None = None) -> ExpressionError:
    shown = text if len(text) <= 60 else text[:57] + "..."
    where = f" (column {column})" if column is not None else ""
    return ExpressionError(f"invalid expression {shown!r}: {reason}{where}")


class _NumPyPrinter(NumPyPrinter):
    """Prints floats with ``repr`` so literals reach numpy bit for bit (sympy would print 15 digits)."""

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_Integer(self, expr: sp.Integer) -> str:
        # Exact huge integers would turn numpy arrays into object arrays; float64 is what we compute in.
        if abs(int(expr)) > 2**53:
            value = float(expr) if abs(int(expr)) < 2**1023 else math.copysign(math.inf, int(expr))
            return repr(value) if math.isfinite(value) else ("(-1e999)" if value < 0 else "1e999")
        return str(int(expr))

    def _print_cbrt(self, expr: sp.Expr) -> str:
        return f"cbrt({self._print(expr.args[0])})"


def _numpy_cbrt(z: Any) -> Any:
    z = np.asarray(z)
    if np.iscomplexobj(z):
        # The analytic continuation of the real cube root around the real axis (for the complex step).
        return np.where(z.real >= 0, z ** (1 / 3), -((-z) ** (1 / 3)))
    return np.cbrt(z)


def lambdify(symbols: tuple[sp.Symbol, ...], expr: sp.Expr) -> Callable[..., Any]:
    """Compile a validated sympy expression into a numpy function of ``len(symbols)`` arrays."""
    return sp.lambdify(symbols, expr, modules=[{"cbrt": _numpy_cbrt}, "numpy"], printer=_NumPyPrinter, dummify=True)


@dataclass(frozen=True)
class Expression:
    """A validated expression: its text, sympy tree and ordered variables."""

    text: str
    tree: sp.Expr
    names: tuple[str, ...]  # component names in variable order, e.g. ("x[0]", "x[1]", "y")
    symbols: tuple[sp.Symbol, ...]
    shapes: dict[str, tuple[int, ...]]  # indexed base name -> shape, e.g. {"W": (2, 2)}

    @property
    def analytic(self) -> bool:
        """False when the expression uses a function that is not complex-analytic (abs, sign, step, ...)."""
        return not self.tree.has(*_NON_ANALYTIC)

    @cached_property
    def function(self) -> Callable[[np.ndarray], np.ndarray]:
        """``F(X)`` with ``X`` of shape ``(len(names), *batch)`` returning values of shape ``batch``."""
        from numdiff_cli.compiled import UnsafeCode, from_expression

        try:
            # The same printer as lambdify, without lambdify's slow import of numpy's whole namespace.
            return from_expression(self).function
        except UnsafeCode:
            pass
        raw = lambdify(self.symbols, self.tree)

        def evaluate(points: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                values = np.asarray(raw(*points))
            if values.shape != points.shape[1:]:
                values = np.broadcast_to(values, points.shape[1:]).copy()
            return values

        return evaluate

    def with_variable(self, name: str) -> Expression:
        """The same expression, with ``name`` added as a variable if it does not occur (derivative 0)."""
        if name in self.names:
            return self
        if not _is_plain_name(name):
            raise ExpressionError(f"invalid variable name {name!r}: it must be a plain name such as x or theta")
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
        return Expression(self.text, self.tree, names, tuple(symbols[n] for n in names), self.shapes)


def _is_plain_name(name: str) -> bool:
    return (
        name.isidentifier()
        and name.isascii()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and name not in FUNCTIONS
        and name not in CONSTANTS
        and name not in _RESERVED_NAMES
        and len(name) <= MAX_NAME_LENGTH
    )


def _check_characters(text: str) -> None:
    for index, char in enumerate(text):
        if char.isascii() and (char.isprintable() or char in " \t"):
            continue
        column = index + 1
        if char in _LOOKALIKES:
            raise _fail(
                text, f"character {char!r} (U+{ord(char):04X}) is not allowed; write {_LOOKALIKES[char]!r}", column
            )
        if not char.isprintable() or char.isspace():
            raise _fail(text, f"control character U+{ord(char):04X} is not allowed", column)
        raise _fail(text, f"character {char!r} (U+{ord(char):04X}) is not allowed; use ASCII", column)


def _check_implicit_multiplication(text: str) -> None:
    for number in _NUMBER.finditer(text):
        name = _NAME.match(text, number.end())
        if not name:
            continue
        literal, column = number.group(), number.start() + 1
        if name.group()[0] in "jJ" and len(name.group()) == 1:
            raise _fail(text, "complex numbers are not supported", column)
        if literal == "0" and name.group()[0] in "xXoObB":
            raise _fail(text, "hexadecimal, octal and binary numbers are not supported", column)
        raise _fail(
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
                raise _fail(text, f"nested deeper than {MAX_DEPTH} levels", index + 1)
        elif char in ")]":
            depth -= 1


def _syntax_error(text: str, error: SyntaxError, origin: list[int]) -> ExpressionError:
    offset = (error.offset or 0) - 1  # 0 or None: the error is at the end of the text
    message = error.msg or "invalid syntax"
    if "never closed" in message or "unmatched" in message or "does not match" in message:
        column = origin[offset] + 1 if offset < len(origin) else len(text) + 1
        reason = message.replace("was never closed", "is never closed")
        return _fail(text, reason, column)
    stripped = text.rstrip()
    if offset < 0 or offset >= len(origin) or not text[origin[offset] :].strip():
        last = stripped.split()[-1] if stripped.split() else stripped
        tail = re.findall(r"\*\*|[-+*/^(\[,=]|\w+|.", last)
        return _fail(text, f"expression ends after '{tail[-1] if tail else last}'", len(stripped) + 1)
    column = origin[offset] + 1
    token = re.match(r"\*\*|[\w.]+|\S", text[column - 1 :])
    shown = token.group(0) if token else text[column - 1]
    before = text[: column - 1].rstrip()
    if before and (before[-1].isalnum() or before[-1] in "_.)]") and (shown[0].isalnum() or shown[0] in "_.("):
        return _fail(text, f"missing operator before '{shown}'", column)
    return _fail(text, f"unexpected '{shown}'", column)


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
        raise _fail(text, "the expression is empty")
    _check_characters(text)
    _check_implicit_multiplication(text)
    _check_nesting(text)
    # '^' means power; keep a map from each character of the rewritten text to its column in the original.
    rewritten: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = "**" if char == "^" else char
        rewritten.append(piece)
        origin.extend([index] * len(piece))
    source = "".join(rewritten)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(text, error, origin) from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise _fail(text, f"too complex to parse ({type(error).__name__})") from None
    builder = _Builder(text, origin)
    result = builder.build(tree.body, depth=0)
    if not isinstance(result, sp.Expr):
        raise _fail(text, "not a numeric expression")
    return builder.expression(result)


class _Builder:
    """Walks a parsed tree against the whitelist and builds the sympy expression."""

    def __init__(self, text: str, origin: list[int]):
        self.text = text
        self.origin = origin
        self.nodes = 0
        self.plain: dict[str, sp.Symbol] = {}
        self.indexed: dict[str, dict[tuple[int, ...], sp.Symbol]] = {}

    def column(self, node: ast.AST) -> int:
        offset = getattr(node, "col_offset", 0)
        return self.origin[offset] + 1 if offset < len(self.origin) else len(self.text)

    def fail(self, node: ast.AST, reason: str) -> ExpressionError:
        return _fail(self.text, reason, self.column(node))

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"more than {MAX_NODES} terms")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.build(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, depth + 1)
            raise self.fail(node, f"operator '{_OPERATORS.get(type(node.op), '?')}' is not supported")
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        what = _NODE_NAMES.get(type(node), f"'{type(node).__name__}' nodes are")
        raise self.fail(node, f"{what} not allowed")

    def binary(self, node: ast.BinOp, depth: int) -> sp.Expr:
        if type(node.op) in _OPERATORS:
            raise self.fail(node, f"operator '{_OPERATORS[type(node.op)]}' is not supported")
        left = self.build(node.left, depth + 1)
        right = self.build(node.right, depth + 1)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        if isinstance(node.op, ast.Pow):
            return self.power(node, left, right)
        raise self.fail(node, "this operator is not supported")

    def power(self, node: ast.BinOp, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        if base.is_Number and exponent.is_Number:
            # sympy computes exact powers eagerly (9**9**9 would never finish): bound the size first.
            magnitude = max(abs(base.p), abs(base.q), 2) if base.is_Rational else 2
            if exponent.is_Rational and abs(exponent) * math.log2(magnitude) <= MAX_POWER_BITS:
                return sp.Pow(base, exponent)
            try:
                value = math.pow(float(base), float(exponent))
            except (OverflowError, ValueError):
                raise self.fail(node, "the power is too large to compute") from None
            return sp.Float(value)
        if base.free_symbols or exponent.free_symbols:
            return sp.Pow(base, exponent)
        # Constant but symbolic (e.g. 7**exp(exp(10))): leave it to float evaluation, never to sympy.
        return sp.Pow(base, exponent, evaluate=False)

    def constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.fail(node, f"'{value}' is not allowed")
        if isinstance(value, int):
            if len(str(value)) > MAX_LITERAL_DIGITS:
                raise self.fail(node, f"number has more than {MAX_LITERAL_DIGITS} digits")
            return sp.Integer(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(node, "number is too large for double precision")
            return sp.Float(value)
        if isinstance(value, complex):
            raise self.fail(node, "complex numbers are not supported")
        raise self.fail(node, "strings are not allowed")

    def name(self, node: ast.Name) -> sp.Expr:
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise self.fail(node, f"'{name}' is a function; write {name}(...)")
        self.check_name(node, name)
        if name in self.indexed:
            raise self.fail(node, f"'{name}' is used both as a plain variable and with an index")
        if name not in self.plain:
            self.plain[name] = sp.Symbol(name, real=True)
        return self.plain[name]

    def check_name(self, node: ast.AST, name: str) -> None:
        if not name.isascii():
            raise self.fail(node, f"name {name!r} is not ASCII")
        if name.startswith("_"):
            raise self.fail(node, f"names starting with '_' are not allowed ('{name}')")
        if len(name) > MAX_NAME_LENGTH:
            raise self.fail(node, f"name longer than {MAX_NAME_LENGTH} characters")
        if name in _RESERVED_NAMES:
            raise self.fail(node, f"'{name}' is reserved and cannot be a variable")

    def call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call, ast.Subscript)):
                raise self.fail(node, "implicit multiplication is not supported; write '*' before '('")
            raise self.fail(node.func, "only the built-in functions can be called")
        name = node.func.id
        if name not in FUNCTIONS:
            if name in CONSTANTS:
                raise self.fail(node, f"'{name}' is a constant; write {name}*(...) to multiply")
            if not _is_plain_name(name):
                raise self.fail(node, f"unknown function '{name}'")
            raise self.fail(node, f"unknown function '{name}' (or write {name}*(...) to multiply)")
        if node.keywords:
            raise self.fail(node, f"keyword arguments are not allowed in {name}()")
        builder, counts = FUNCTIONS[name]
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.fail(node, "starred arguments are not allowed")
        if len(node.args) not in counts:
            wanted = " or ".join(str(c) for c in counts)
            raise self.fail(
                node, f"{name}() takes {wanted} argument{'s' if counts[-1] > 1 else ''}, got {len(node.args)}"
            )
        args = [self.build(arg, depth + 1) for arg in node.args]
        if all(not arg.free_symbols for arg in args):
            # Constant arguments: keep them unevaluated so sympy never does heavy exact work on them.
            if name in ("sigmoid", "relu", "log", "log10", "log2"):
                return builder(*[_hold(arg) for arg in args])
            return builder(*args, evaluate=False)
        return builder(*args)

    def subscript(self, node: ast.Subscript) -> sp.Expr:
        if not isinstance(node.value, ast.Name):
            raise self.fail(node, "only variables can be indexed, as in x[0] or W[0,1]")
        base = node.value.id
        if base in FUNCTIONS or base in CONSTANTS:
            raise self.fail(node, f"'{base}' cannot be indexed")
        self.check_name(node.value, base)
        if base in self.plain:
            raise self.fail(node, f"'{base}' is used both as a plain variable and with an index")
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        index: list[int] = []
        for part in parts:
            if not (isinstance(part, ast.Constant) and type(part.value) is int):
                raise self.fail(node, "indices must be non-negative whole numbers, as in x[0] or W[0,1]")
            if part.value > MAX_INDEX:
                raise self.fail(node, f"index larger than {MAX_INDEX}")
            index.append(part.value)
        components = self.indexed.setdefault(base, {})
        if components and len(next(iter(components))) != len(index):
            raise self.fail(node, f"'{base}' is indexed with different numbers of indices")
        key = tuple(index)
        if key not in components:
            components[key] = sp.Symbol(f"{base}[{','.join(map(str, key))}]", real=True)
        return components[key]

    def expression(self, tree: sp.Expr) -> Expression:
        names: list[str] = []
        symbols: list[sp.Symbol] = []
        shapes: dict[str, tuple[int, ...]] = {}
        for base in sorted(self.indexed, key=natural_key):
            components = self.indexed[base]
            rank = len(next(iter(components)))
            shape = tuple(max(key[axis] for key in components) + 1 for axis in range(rank))
            if math.prod(shape) > MAX_VARIABLES:
                raise _fail(self.text, f"'{base}' has more than {MAX_VARIABLES} components")
            shapes[base] = shape
            for key in np.ndindex(*shape):
                symbol = components.get(key) or sp.Symbol(f"{base}[{','.join(map(str, key))}]", real=True)
                names.append(symbol.name)
                symbols.append(symbol)
        for name in sorted(self.plain, key=natural_key):
            names.append(name)
            symbols.append(self.plain[name])
        if len(names) > MAX_VARIABLES:
            raise _fail(self.text, f"more than {MAX_VARIABLES} variables")
        return Expression(self.text, tree, tuple(names), tuple(symbols), shapes)


def _hold(arg: sp.Expr) -> sp.Expr:
    """Wrap a constant so that building on it does not trigger sympy's exact evaluation."""
    return sp.UnevaluatedExpr(arg)


def derivative_expression(expression: Expression, name: str, order: int) -> sp.Expr:
    """The analytic derivative by ``sympy.diff`` of a validated expression."""
    symbol = expression.symbols[expression.names.index(name)]
    return sp.diff(expression.tree, symbol, order)


def evaluate_constant(text: str) -> float:
    """Value of a constant expression such as ``pi/4`` or ``-1.5e3`` (no variables allowed)."""
    expression = parse_expression(text)
    if expression.names:
        raise ExpressionError(f"invalid number {text!r}: it contains the variable '{expression.names[0]}'")
    value = expression.function(np.zeros((0,)))
    return float(np.real(value))

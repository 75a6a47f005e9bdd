"""The options that several commands share, each declared once, and the parameter types that read them.

Choices come from :mod:`numdiff_cli.contract`, so ``--help`` and shell completion import nothing but click.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from numdiff_cli.contract import DTYPES, FORMATS, MAX_ORDER, METHODS, methods_help


class StepType(click.ParamType):
    """A positive finite number: a step, a learning rate or a tolerance."""

    name = "STEP"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            step = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number (write e.g. 1e-4)", param, ctx)
        if not math.isfinite(step) or step <= 0:
            self.fail(f"{value!r} must be a positive finite number", param, ctx)
        return step


class GtolType(click.FloatRange):
    """A finite number, 0 or more: a threshold that 0 turns off (click's FloatRange lets 'nan' and 'inf' through)."""

    def __init__(self) -> None:
        super().__init__(min=0)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} must be a finite number, 0 or more", param, ctx)
        return number


class NamesType(click.ParamType):
    """Variable names separated by commas, none repeated."""

    name = "NAMES"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        names = tuple(part.strip() for part in str(value).split(",") if part.strip())
        if not names:
            self.fail("give variable names separated by commas, e.g. x,y,z", param, ctx)
        if len(set(names)) != len(names):
            self.fail(f"a name is repeated in {value!r}", param, ctx)
        return names


class LimitsType(click.ParamType):
    """An interval ``LOW,HIGH`` (or ``LOW:HIGH``) of finite numbers, ``LOW < HIGH``."""

    name = "A,B"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        parts = str(value).replace(":", ",").split(",")
        try:
            low, high = (float(part) for part in parts)
        except ValueError:
            self.fail(f"{value!r}: expected two numbers LOW,HIGH, e.g. -2,2", param, ctx)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            self.fail(f"{value!r}: expected finite LOW < HIGH", param, ctx)
        return low, high


AT = click.option(
    "--at",
    "at",
    multiple=True,
    metavar="POINT",
    help="Point: 2, pi/4, x=1,y=2 or 1,2 (variable order); x=[3,4] or [[1,2],[3,4]] for vectors and matrices. "
    "Repeat for several points; '-' reads one point per line from standard input.",
)
LET = click.option(
    "--let",
    "lets",
    multiple=True,
    metavar="NAME=VALUE",
    help="A variable held at one value for every point, e.g. t=[0,0,1] or x=[0.6,0.9],t=[0,0,1] (repeatable); "
    "not differentiated.",
)
RANGE = click.option(
    "--range", "range_text", metavar="START:STOP:NUM", help="NUM evenly spaced points, both ends included."
)
VARS = click.option(
    "--vars", "var_order", type=NamesType(), help="Variable order, e.g. x,y,z (default: natural order)."
)
METHOD = click.option("--method", type=click.Choice(METHODS), default="auto", show_default=True, help=methods_help())
STEP = click.option(
    "--h",
    "step",
    type=StepType(),
    help=f"Step for {'/'.join(METHODS[1:])} (default: scaled to the point).",
)
ORDER = click.option(
    "--order", type=click.IntRange(1, MAX_ORDER), default=1, show_default=True, help="Derivative order."
)
WRT = click.option("--wrt", metavar="NAME", help="Variable to differentiate by (a partial derivative).")
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="auto: a table on a terminal, plain otherwise; json: JSON Lines; csv: with a header row.",
)
DTYPE = click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default="float64",
    show_default=True,
    help="Precision of the finite difference: float32 shows how rounding error moves the best step "
    "(auto then means central).",
)
# The picture formats of --plot, chosen by the file's extension (plot.PICTURE_FORMATS; a test checks they agree).
PICTURE_FORMATS = ("png", "svg", "pdf")


class PicturePath(click.Path):
    """A file name ending in .png, .svg or .pdf: the extension chooses the picture's format."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        extension = str(path).rpartition(".")[2].lower() if "." in str(path) else ""
        if extension not in PICTURE_FORMATS:
            wanted = ", ".join(f".{name}" for name in PICTURE_FORMATS)
            self.fail(f"{str(value)!r}: the picture's format follows the file's extension: {wanted}", param, ctx)
        return path


PLOT = click.option(
    "--plot",
    "plot_path",
    type=PicturePath(),
    metavar="FILE.png",
    help="Draw a picture into FILE.png (or .svg, .pdf) instead of printing results (needs the 'plot' extra:"
    " matplotlib).",
)
NO_CACHE = click.option(
    "--no-cache",
    is_flag=True,
    help="Do not read or write the per-user cache of compiled expressions (also: NUMDIFF_NO_CACHE=1).",
)


# Options that always go together reach a command as one argument: declared and unpacked once, here.
F = TypeVar("F", bound=Callable[..., Any])


def _group(name: str, kind: type, *options: Callable[[F], F]) -> Callable[[F], F]:
    """``options`` (in ``--help`` order) passed to the command as one argument ``name``, a ``kind`` of their values."""
    fields = [field.name for field in dataclasses.fields(kind)]

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def callback(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = kind(**{field: kwargs.pop(field) for field in fields})
            return command(*args, **kwargs)

        for option in reversed(options):
            callback = option(callback)
        return cast(F, callback)

    return decorate


@dataclasses.dataclass(frozen=True)
class Target:
    """What to differentiate, where: ``--at``/``--range`` points, ``--let`` fixed values, ``--wrt`` variable and
    ``--order``."""

    at: tuple[str, ...]
    range_text: str | None
    wrt: str | None
    order: int
    lets: tuple[str, ...] = ()

    @property
    def total(self) -> int | None:
        """How many points there are, when that is known before reading them (not with ``--at -``)."""
        if any(text.strip() == "-" for text in self.at):
            return None
        count = len(self.at)
        if self.range_text is not None:
            parts = self.range_text.split(":")
            if len(parts) != 3 or not parts[2].strip().isdigit():
                return None  # the points module says what is wrong with it
            count += int(parts[2])
        return count


@dataclasses.dataclass(frozen=True)
class How:
    """The numerical method and its step: ``--method`` and ``--h``."""

    method: str
    step: float | None


@dataclasses.dataclass(frozen=True)
class View:
    """How variables are read and results shown: ``--vars``, ``--format`` and ``--no-cache``."""

    var_order: tuple[str, ...] | None
    fmt: str
    no_cache: bool


TARGET = _group("target", Target, AT, LET, RANGE, WRT, ORDER)
HOW = _group("how", How, METHOD, STEP)
VIEW = _group("view", View, VARS, FORMAT, NO_CACHE)


def how(method_option: Callable[[F], F]) -> Callable[[F], F]:
    """:data:`HOW` with another ``--method`` option (``compare`` also offers ``all``)."""
    return _group("how", How, method_option, STEP)

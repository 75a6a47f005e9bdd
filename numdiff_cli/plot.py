"""Pictures for the lessons: tangent lines, the ``-grad f`` field, the error-vs-step V, descent paths.

Each picture has a ``*_data`` function (numpy only) that computes what is drawn, so tests can check the data,
and a ``draw_*`` function that draws it with matplotlib and saves a PNG. matplotlib is an optional extra
(``pip install 'numdiff-cli[plot]'``), imported only when drawing; :func:`require` says how to install it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from numdiff_cli.engine import gradient
from numdiff_cli.errors import NumdiffError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

INSTALL_HINT = "pip install 'numdiff-cli[plot]'"
SIZE = (6.4, 4.8)
DPI = 80


class MissingDependency(NumdiffError):
    """An optional dependency (matplotlib) is not installed."""


def require() -> None:
    """Raise :class:`MissingDependency` with the install command when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        message = f"--plot needs matplotlib, which is not installed; install it with: {INSTALL_HINT}"
        raise MissingDependency(message) from None


Curve = Callable[[np.ndarray], np.ndarray]


# ---------------------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class TangentData:
    x: np.ndarray  # the grid on which f is drawn
    y: np.ndarray  # f on that grid (NaN outside its domain)
    points: np.ndarray  # the points of tangency
    values: np.ndarray  # f at those points
    slopes: np.ndarray
    lines: list[tuple[np.ndarray, np.ndarray]]  # each tangent line over a window around its point


def tangent_data(f: Curve, points: ArrayLike, values: ArrayLike, slopes: ArrayLike, num: int = 400) -> TangentData:
    """f over an interval around the points, and each tangent ``y = f(a) + f'(a) (x - a)`` near its point."""
    a = np.asarray(points, dtype=float)
    fa = np.asarray(values, dtype=float)
    slope_a = np.asarray(slopes, dtype=float)
    width = max(1.0, float(a.max() - a.min()))
    x = np.linspace(a.min() - 0.75 * width, a.max() + 0.75 * width, num)
    with np.errstate(all="ignore"):
        y = np.asarray(f(x), dtype=float)
    y = np.where(np.isfinite(y), y, np.nan)
    half = 0.35 * width
    lines = []
    for point, value, slope in zip(a, fa, slope_a):
        xs = np.array([point - half, point + half])
        lines.append((xs, value + slope * (xs - point)))
    return TangentData(x, y, a, fa, slope_a, lines)


@dataclass(frozen=True)
class FieldData:
    gx: np.ndarray  # contour grid, shape (num,)
    gy: np.ndarray
    z: np.ndarray  # f on the contour grid, shape (num, num), z[i, j] = f(gx[j], gy[i])
    ax: np.ndarray  # arrow positions, shape (arrows * arrows,)
    ay: np.ndarray
    u: np.ndarray  # -df/dx at the arrows
    v: np.ndarray  # -df/dy at the arrows


def surface(f: Callable[[np.ndarray], np.ndarray], xlim: Sequence[float], ylim: Sequence[float], num: int) -> Any:
    """Grid coordinates and ``f`` on a ``num x num`` grid (NaN where f is not finite)."""
    gx = np.linspace(xlim[0], xlim[1], num)
    gy = np.linspace(ylim[0], ylim[1], num)
    mx, my = np.meshgrid(gx, gy)
    with np.errstate(all="ignore"):
        z = np.asarray(f(np.stack([mx, my])), dtype=float)
    return gx, gy, np.where(np.isfinite(z), z, np.nan)


def field_points(xlim: Sequence[float], ylim: Sequence[float], arrows: int = 15) -> np.ndarray:
    """The arrow positions of the field, shape ``(2, arrows * arrows)``, row by row from the bottom left."""
    mx, my = np.meshgrid(np.linspace(xlim[0], xlim[1], arrows), np.linspace(ylim[0], ylim[1], arrows))
    return np.stack([mx.ravel(), my.ravel()])


def field_data(
    f: Callable[[np.ndarray], np.ndarray],
    xlim: Sequence[float],
    ylim: Sequence[float],
    *,
    arrows: int = 15,
    num: int = 200,
    method: str = "auto",
    step: float | None = None,
) -> FieldData:
    """Contours of a two-variable ``f(X)`` and the arrows ``-grad f`` (numerical gradient) on a coarser grid."""
    gx, gy, z = surface(f, xlim, ylim, num)
    where = field_points(xlim, ylim, arrows)
    grad = gradient(f, where, method=method, step=step).value
    return FieldData(gx, gy, z, where[0], where[1], -grad[0], -grad[1])


@dataclass(frozen=True)
class SweepData:
    steps: np.ndarray
    errors: np.ndarray  # (curves, steps) absolute errors; NaN where zero or undefined (log scale)
    labels: list[str]
    best: list[int]  # index of the best step of each curve
    optimum: float | None  # the theoretical optimal step, if the method has one


def sweep_data(steps: ArrayLike, errors: ArrayLike, labels: Sequence[str], optimum: float | None) -> SweepData:
    """Errors ready for a log-log plot: zeros and non-finite errors become NaN; the best step of each curve."""
    h = np.asarray(steps, dtype=float)
    e = np.atleast_2d(np.asarray(errors, dtype=float))
    best = [int(np.nanargmin(np.where(np.isfinite(row), row, np.nan))) if np.isfinite(row).any() else 0 for row in e]
    shown = np.where(np.isfinite(e) & (e > 0), e, np.nan)
    return SweepData(h, shown, list(labels), best, optimum)


@dataclass(frozen=True)
class PathData:
    path: np.ndarray  # (m, k) points of the descent, m = 1 or 2
    values: np.ndarray  # f along the path
    gx: np.ndarray  # the grid under the path (m = 2: contours; m = 1: the curve)
    gy: np.ndarray | None
    z: np.ndarray


def path_data(f: Callable[[np.ndarray], np.ndarray], path: np.ndarray, values: Sequence[float]) -> PathData:
    """The descent path and f on a grid that covers it with a margin (contours for 2 variables, a curve for 1)."""
    path = np.asarray(path, dtype=float)
    finite = path[:, np.all(np.isfinite(path), axis=0)]
    low, high = finite.min(axis=1), finite.max(axis=1)
    margin = np.maximum(0.15 * (high - low), 0.5)
    if path.shape[0] == 1:
        gx = np.linspace(low[0] - margin[0], high[0] + margin[0], 400)
        with np.errstate(all="ignore"):
            z = np.asarray(f(gx[None]), dtype=float)
        return PathData(path, np.asarray(values, dtype=float), gx, None, np.where(np.isfinite(z), z, np.nan))
    span = max(high[0] - low[0] + 2 * margin[0], high[1] - low[1] + 2 * margin[1])
    centre = (low + high) / 2
    xlim = (centre[0] - span / 2, centre[0] + span / 2)
    ylim = (centre[1] - span / 2, centre[1] + span / 2)
    gx, gy, z = surface(f, xlim, ylim, 200)
    return PathData(path, np.asarray(values, dtype=float), gx, gy, z)


def contour_levels(z: np.ndarray, count: int = 14) -> np.ndarray:
    """Levels at quantiles of the finite values, so that both a steep bowl and a flat valley show lines."""
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return np.array([0.0])
    levels = np.unique(np.quantile(finite, np.linspace(0, 1, count + 2)[1:-1]))
    return levels if levels.size else np.array([float(finite[0])])


# ---------------------------------------------------------------------------------------------------------------
# Drawing


def _figure() -> Figure:
    require()
    from matplotlib.figure import Figure

    return Figure(figsize=SIZE, dpi=DPI, layout="constrained")


# Formats by file extension (the --plot option refuses any other before the work starts).
PICTURE_FORMATS = ("png", "svg", "pdf")


def _save(figure: Figure, path: str) -> None:
    import io

    from PIL import Image  # a dependency of matplotlib

    extension = path.rpartition(".")[2].lower() if "." in path else ""
    if extension not in PICTURE_FORMATS:
        raise NumdiffError(f"--plot {path}: the picture's format follows the extension: .png, .svg or .pdf")
    if extension != "png":
        # No date in the file: the same command draws the same bytes.
        metadata = {"Date": None} if extension == "svg" else {"CreationDate": None}
        try:
            figure.savefig(path, format=extension, metadata=metadata)
        except (OSError, ValueError) as error:
            raise NumdiffError(f"--plot {path}: cannot write the picture: {error}") from None
        return
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    buffer.seek(0)
    # A palette of 128 colours keeps the picture sharp at a third of the size of a full-colour PNG.
    image = Image.open(buffer).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    try:
        image.save(path, format="PNG", optimize=True)
    except (OSError, ValueError) as error:
        raise NumdiffError(f"--plot {path}: cannot write the picture: {error}") from None


def _contours(axes: Axes, gx: np.ndarray, gy: np.ndarray, z: np.ndarray, cmap: str | None = "viridis") -> None:
    levels = contour_levels(z)
    if levels.size > 1:
        import matplotlib

        colors = "0.6" if cmap is None else None
        # Solid lines for negative levels too: dashes would read as a different kind of line.
        with matplotlib.rc_context({"contour.negative_linestyle": "solid"}):
            lines = axes.contour(gx, gy, z, levels=levels, cmap=cmap, colors=colors, linewidths=0.8)
        axes.clabel(lines, fontsize=7, fmt="%.3g")


def draw_tangent(data: TangentData, title: str, path: str, var: str = "x") -> None:
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(data.x, data.y, color="black", linewidth=1.8, label="f")
    for (xs, ys), point, value, slope in zip(data.lines, data.points, data.values, data.slopes):
        intercept = value - slope * point
        label = (
            f"tangent at {var}={point:.4g}: y = {slope:.4g}*{var} {'-' if intercept < 0 else '+'} {abs(intercept):.4g}"
        )
        (line,) = axes.plot(xs, ys, linewidth=1.5, label=label)
        axes.plot([point], [value], "o", color=line.get_color())
    finite = data.y[np.isfinite(data.y)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        pad = 0.1 * (high - low) or 1.0
        axes.set_ylim(low - pad, high + pad)
    axes.set_xlabel(var)
    axes.set_ylabel(f"f({var})")
    axes.set_title(f"f({var}) = {title} and its tangent line(s)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    _save(figure, path)


def draw_field(data: FieldData, title: str, path: str, names: Sequence[str]) -> None:
    figure = _figure()
    axes = figure.add_subplot()
    _contours(axes, data.gx, data.gy, data.z, cmap=None)
    length = np.hypot(data.u, data.v)
    scale = np.where(length > 0, length, 1.0)
    # Arrows of equal length show the direction; the colour shows how steep f is there.
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    # viridis without its pale yellow end, so that every arrow stands out on white.
    cmap = ListedColormap(colormaps["viridis"](np.linspace(0.0, 0.8, 256)))
    spacing = min(np.ptp(data.ax), np.ptp(data.ay)) / max(1, round(np.sqrt(data.ax.size)) - 1)
    arrows = axes.quiver(
        data.ax,
        data.ay,
        data.u / scale,
        data.v / scale,
        length,
        cmap=cmap,
        pivot="mid",
        angles="xy",
        scale_units="xy",
        scale=1 / (0.75 * spacing),
        width=0.006,
    )
    figure.colorbar(arrows, ax=axes, label="|grad f|")
    axes.set_xlabel(names[0])
    axes.set_ylabel(names[1])
    axes.set_aspect("equal")
    axes.set_title(f"-grad f for f = {title}\n(arrows point downhill; lines: contours of f)", fontsize=10)
    _save(figure, path)


def draw_sweep(data: SweepData, title: str, path: str, method: str, dtype: str) -> None:
    figure = _figure()
    axes = figure.add_subplot()
    for row, label, best in zip(data.errors, data.labels, data.best):
        (line,) = axes.loglog(data.steps, row, "o-", markersize=4, label=label)
        if np.isfinite(row[best]):
            axes.loglog(
                [data.steps[best]],
                [row[best]],
                "*",
                markersize=14,
                color=line.get_color(),
                label=f"best step h = {data.steps[best]:.3g} (error {row[best]:.2g})",
            )
    if data.optimum is not None:
        axes.axvline(data.optimum, color="gray", linestyle="--", label=f"theoretical optimum h = {data.optimum:.2g}")
    axes.invert_xaxis()
    axes.set_xlabel("step h (shrinking to the right)")
    axes.set_ylabel("absolute error")
    axes.set_title(
        f"{method} difference of {title} ({dtype})\n"
        "left: truncation error falls as h shrinks; right: rounding error grows"
    )
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    _save(figure, path)


def draw_path(data: PathData, title: str, path: str, names: Sequence[str], lr: float, outcome: str) -> None:
    figure = _figure()
    axes = figure.add_subplot()
    k = data.path.shape[1]
    if data.gy is None:
        axes.plot(data.gx, data.z, color="black", linewidth=1.5, label="f")
        axes.plot(data.path[0], data.values, "o-", color="tab:red", markersize=3, linewidth=0.8, label="path")
        axes.set_xlabel(names[0])
        axes.set_ylabel("f")
    else:
        _contours(axes, data.gx, data.gy, data.z)
        axes.plot(data.path[0], data.path[1], "o-", color="tab:red", markersize=3, linewidth=0.8, label="path")
        axes.set_xlabel(names[0])
        axes.set_ylabel(names[1])
        axes.set_aspect("equal")
        axes.plot(data.path[0, -1:], data.path[1, -1:], "*", color="tab:red", markersize=14, label="end")
    start_y = data.values[0] if data.gy is None else data.path[1, 0]
    axes.plot([data.path[0, 0]], [start_y], "s", color="black", markersize=7, label="start")
    axes.set_title(f"gradient descent on {title}\nlr = {lr:g}: {outcome} after {k - 1} steps", fontsize=10)
    axes.legend(fontsize=8)
    _save(figure, path)


# ---------------------------------------------------------------------------------------------------------------
# Text plots, for a terminal (no matplotlib needed)

ARROWS = "→↗↑↖←↙↓↘"


def _scale(values: np.ndarray, size: int, log: bool) -> tuple[np.ndarray, float, float]:
    v = np.log10(values) if log else values
    finite = np.isfinite(v)
    low, high = (float(v[finite].min()), float(v[finite].max())) if finite.any() else (0.0, 1.0)
    span = high - low or 1.0
    cells = np.where(finite, np.round((v - low) / span * (size - 1)), -1).astype(int)
    return cells, low, high


def text_plot(
    x: ArrayLike,
    y: ArrayLike,
    *,
    width: int = 60,
    height: int = 12,
    log: bool = False,
    marks: dict[int, str] | None = None,
    xlabel: str = "x",
    ylabel: str = "y",
    xticks: tuple[str, str] | None = None,
) -> str:
    """A small scatter plot in text: ``*`` per point, ``marks`` (index -> character) for special points.

    With ``log`` both axes are log10 (non-positive values are left out). x grows to the right.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if log:
        xs = np.where(xs > 0, xs, np.nan)
        ys = np.where(ys > 0, ys, np.nan)
    cx, xlow, xhigh = _scale(xs, width, log)
    cy, ylow, yhigh = _scale(ys, height, log)
    grid = [[" "] * width for _ in range(height)]
    order = list(range(len(xs)))
    marks = marks or {}
    for i in sorted(order, key=lambda i: i in marks):  # marks drawn last, on top
        if cx[i] >= 0 and cy[i] >= 0:
            grid[height - 1 - cy[i]][cx[i]] = marks.get(i, "*")

    def label(value: float) -> str:
        return f"1e{value:.0f}" if log else f"{value:.3g}"

    top, bottom = label(yhigh), label(ylow)
    pad = max(len(top), len(bottom))
    lines = [f"{ylabel}"]
    for row, cells in enumerate(grid):
        side = top if row == 0 else bottom if row == height - 1 else ""
        lines.append(f"{side:>{pad}} |{''.join(cells)}")
    lines.append(" " * pad + " +" + "-" * width)
    left, right = xticks or (label(xlow), label(xhigh))
    lines.append(" " * (pad + 2) + left + " " * max(1, width - len(left) - len(right)) + right + f"  {xlabel}")
    return "\n".join(lines)


def text_field(u: np.ndarray, v: np.ndarray, arrows: int) -> str:
    """The ``-grad f`` field as a grid of arrow characters (rows from top = largest y), ``·`` where it vanishes."""
    angle = np.arctan2(v, u)
    index = np.round(angle / (np.pi / 4)).astype(int) % 8
    zero = np.hypot(u, v) <= 1e-12 * max(1.0, float(np.nanmax(np.hypot(u, v))))
    chars = np.where(zero | ~np.isfinite(angle), "·", np.array(list(ARROWS))[index])
    rows = chars.reshape(arrows, arrows)[::-1]
    return "\n".join(" ".join(row) for row in rows)


def text_tangent(data: TangentData, var: str = "x") -> str:
    """f (``*``), its tangent lines (``.``) and the points of tangency (``o``) as a text plot."""
    xs, ys, marks = [data.x], [data.y], {}
    count = len(data.x)
    for (line_x, line_y), a, fa in zip(data.lines, data.points, data.values):
        t = np.linspace(line_x[0], line_x[1], 15)
        xs += [t, np.array([a])]
        ys += [line_y[0] + (line_y[1] - line_y[0]) * (t - line_x[0]) / (line_x[1] - line_x[0]), np.array([fa])]
        marks.update({count + k: "." for k in range(15)})
        marks[count + 15] = "o"
        count += 16
    x, y = np.concatenate(xs), np.concatenate(ys)
    if np.isfinite(data.y).any():
        low, high = np.nanmin(data.y), np.nanmax(data.y)
        y = np.where((y >= low) & (y <= high), y, np.nan)  # the lines only within the curve's range
    return text_plot(x, y, marks=marks, xlabel=var, ylabel=f"f({var})  (*: f, .: tangent, o: point)")

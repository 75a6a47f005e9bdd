"""Pictures: the data each figure draws (numpy only, always tested) and the PNG files (with matplotlib)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from numdiff_cli import plot
from numdiff_cli.expr import parse_expression

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def mpl() -> None:
    pytest.importorskip("matplotlib")


def exact_gradient(text: str, names: tuple[str, ...], points: np.ndarray) -> np.ndarray:
    """The sympy gradient evaluated at the columns of ``points`` (reference values)."""
    symbols = sp.symbols(names)
    tree = sp.sympify(text, locals=dict(zip(names, symbols)))
    parts = [sp.lambdify(symbols, sp.diff(tree, s), "mpmath") for s in symbols]
    return np.array([[float(part(*column)) for column in points.T.tolist()] for part in parts])


def test_tangent_lines_touch_the_curve_with_the_exact_slope() -> None:
    expression = parse_expression("0.01*x**2 + 0.1*x")
    f = expression.function
    points = np.array([5.0, -10.0])
    from numdiff_cli.engine import gradient

    slopes = gradient(f, points[None]).value[0]
    data = plot.tangent_data(lambda x: f(x[None]), points, f(points[None]), slopes)
    assert np.allclose(slopes, 0.02 * points + 0.1, rtol=1e-12)
    assert data.x.min() < points.min() < points.max() < data.x.max()
    assert np.allclose(data.y, 0.01 * data.x**2 + 0.1 * data.x)
    for (xs, ys), a in zip(data.lines, points):
        assert xs[0] < a < xs[1]
        # the line through (a, f(a)) with slope f'(a) = 0.02 a + 0.1
        assert np.allclose(ys, 0.01 * a**2 + 0.1 * a + (0.02 * a + 0.1) * (xs - a))


def test_field_arrows_are_minus_the_exact_gradient() -> None:
    text = "x**2 + 3*y**2 + x*y"
    expression = parse_expression(text)
    data = plot.field_data(expression.function, (-2, 2), (-1, 3), arrows=7, num=50)
    assert data.ax.shape == (49,)
    assert data.ax.min() == -2 and data.ax.max() == 2 and data.ay.min() == -1 and data.ay.max() == 3
    reference = exact_gradient(text, ("x", "y"), np.stack([data.ax, data.ay]))
    assert np.allclose(data.u, -reference[0], atol=1e-9)
    assert np.allclose(data.v, -reference[1], atol=1e-9)
    mx, my = np.meshgrid(data.gx, data.gy)
    assert np.allclose(data.z, mx**2 + 3 * my**2 + mx * my)


def test_sweep_data_hides_zero_errors_and_finds_the_best() -> None:
    data = plot.sweep_data([1e-1, 1e-2, 1e-3, 1e-4], [[1e-3, 0.0, 1e-6, np.nan]], ["a"], 6e-6)
    assert data.best == [1]  # an exact zero is the best step...
    assert np.isnan(data.errors[0, 1]) and np.isnan(data.errors[0, 3])  # ...but cannot be drawn in log scale
    assert data.errors[0, 2] == 1e-6


def test_path_data_covers_the_path() -> None:
    path = np.array([[-3.0, -1.0, 0.5], [4.0, 2.0, -0.5]])
    data = plot.path_data(lambda v: v[0] ** 2 + v[1] ** 2, path, [25.0, 5.0, 0.5])
    assert data.gy is not None
    assert data.gx.min() < path[0].min() and data.gx.max() > path[0].max()
    assert data.gy.min() < path[1].min() and data.gy.max() > path[1].max()
    one = plot.path_data(lambda v: v[0] ** 2, path[:1], [9.0, 1.0, 0.25])
    assert one.gy is None and np.allclose(one.z, one.gx**2)


def test_contour_levels_follow_the_values() -> None:
    z = np.array([[0.0, 1.0], [10.0, np.nan], [100.0, 1000.0]])
    levels = plot.contour_levels(z, count=3)
    assert np.all(np.diff(levels) > 0)
    assert levels.min() > 0.0 and levels.max() < 1000.0


PICTURES = [
    pytest.param(["tangent", "0.01*x**2 + 0.1*x", "--at", "5", "--at", "-10"], id="tangent"),
    pytest.param(["grad", "x**2 + 3*y**2", "--field"], id="field"),
    pytest.param(["compare", "sin(x)", "--at", "1", "--method", "central", "--sweep"], id="sweep"),
    pytest.param(["descend", "x0**2 + 3*x1**2", "--from", "-1.5,1", "--lr", "0.3", "--steps", "60"], id="descend"),
]


@pytest.mark.parametrize("args", PICTURES)
def test_commands_write_small_valid_pngs(mpl, run, tmp_path: Path, args: list[str]) -> None:
    from PIL import Image

    target = tmp_path / "picture.png"
    result = run(*args, "--plot", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    data = target.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert 5_000 < len(data) < 100_000
    with Image.open(target) as image:
        assert image.size == (512, 384)
        # Not a blank canvas: a drawing has many distinct colours.
        assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 10


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(["tangent", "x*y", "--at", "1,2"], "one variable", id="tangent-2d"),
        pytest.param(["grad", "x*y*z", "--field"], "two variables", id="field-3d"),
        pytest.param(["grad", "x*y", "--at", "1,2"], "--field", id="grad-without-field"),
        pytest.param(["compare", "x**2", "--at", "1"], "--sweep", id="compare-without-sweep"),
        pytest.param(["descend", "x*y*z", "--from", "1,2,3"], "one or two", id="descend-3d"),
    ],
)
def test_plot_option_errors(mpl, run, tmp_path: Path, args: list[str], message: str) -> None:
    target = tmp_path / "picture.png"
    result = run(*args, "--plot", str(target))
    assert result.exit_code == 2
    assert message in result.stderr
    assert not target.exists()


@pytest.mark.parametrize("args", PICTURES)
def test_missing_matplotlib_says_how_to_install(run, monkeypatch, tmp_path: Path, args: list[str]) -> None:
    # A None entry in sys.modules makes "import matplotlib" raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    target = tmp_path / "picture.png"
    result = run(*args, "--plot", str(target))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --plot needs matplotlib, which is not installed; install it with: pip install 'numdiff-cli[plot]'\n"
    )
    assert not target.exists()


def test_help_does_not_import_plotting_or_numpy() -> None:
    code = (
        "import sys\n"
        "from numdiff_cli.cli import cli\n"
        "for command in ('descend', 'compare', 'grad', 'tangent', 'diff'):\n"
        "    try:\n"
        "        cli([command, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('numpy', 'matplotlib', 'sympy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"


ROOT = Path(__file__).resolve().parent.parent


def readme_pictures() -> list[tuple[str, str]]:
    """``(command, file name)`` of every README console example that draws a picture."""
    import re
    import shlex

    found = []
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("$ numdiff ") and "--plot" in line:
            words = shlex.split(line[2:])
            found.append((line[2:], words[words.index("--plot") + 1]))
    assert all(re.fullmatch(r"[\w-]+\.png", name) for _, name in found)
    return found


def test_readme_shows_each_picture_it_draws() -> None:
    pictures = readme_pictures()
    assert {name for _, name in pictures} == {
        "tangent.png",
        "field.png",
        "sweep.png",
        "sweep-float32.png",
        "descend.png",
    }
    text = (ROOT / "README.md").read_text()
    for _, name in pictures:
        assert f"](docs/{name})" in text
        data = (ROOT / "docs" / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) < 100_000


@pytest.mark.parametrize(("command", "name"), readme_pictures(), ids=[name for _, name in readme_pictures()])
def test_readme_picture_commands_draw_the_committed_pictures(
    mpl, run, tmp_path: Path, monkeypatch, command: str, name: str
) -> None:
    import shlex

    from PIL import Image

    monkeypatch.chdir(tmp_path)
    result = run(*shlex.split(command)[1:])
    assert result.exit_code == 0, result.stderr
    with Image.open(tmp_path / name) as drawn, Image.open(ROOT / "docs" / name) as committed:
        assert drawn.size == committed.size


if __name__ == "__main__":
    # python tests/test_plot.py --update-docs: redraw docs/*.png with the README's commands (review them by eye).
    if sys.argv[1:] != ["--update-docs"]:
        raise SystemExit("usage: python tests/test_plot.py --update-docs")
    import os
    import shlex

    bin_dir = os.path.dirname(sys.executable)
    for command, name in readme_pictures():
        words = shlex.split(command)
        subprocess.run([os.path.join(bin_dir, words[0]), *words[1:]], cwd=ROOT / "docs", check=True)
        print(f"docs/{name}")


def test_text_plot_places_points_and_marks() -> None:
    text = plot.text_plot([0, 1, 2], [0, 5, 10], width=3, height=3, marks={1: "B"}, xlabel="x", ylabel="y")
    assert text.splitlines() == ["y", "10 |  *", "   | B ", " 0 |*  ", "   +---", "    0 2  x"]


def test_text_field_arrows_point_downhill() -> None:
    data = plot.field_data(lambda v: v[0] ** 2 + v[1] ** 2, (-1, 1), (-1, 1), arrows=3, num=5)
    # top row is the largest y: arrows point towards the origin, which has a zero gradient.
    assert plot.text_field(data.u, data.v, 3).splitlines() == ["↘ ↓ ↙", "→ · ←", "↗ ↑ ↖"]


def test_text_plots_only_on_a_terminal(run, monkeypatch) -> None:
    from numdiff_cli.cli import terminal

    args = ("compare", "sin(x)", "--at", "1", "--method", "central", "--sweep")
    assert "abs_error\n" not in run(*args).stdout  # CliRunner's stdout is not a terminal
    monkeypatch.setattr(terminal, "terminal_plots", lambda fmt: fmt in ("auto", "table"))
    shown = run(*args).stdout
    assert "abs_error\n" in shown and " B " in shown.split("abs_error\n", 1)[1]
    assert "abs_error\n" not in run(*args, "--format", "plain").stdout
    # A run that ends with warnings (exit status 1: a step leaves the domain of sqrt) still draws its plot.
    warned = run("compare", "sqrt(x)", "--at", "0.01", "--method", "central", "--sweep")
    assert warned.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    assert "abs_error\n" in warned.stdout
    field = run("grad", "x**2 + y**2", "--field").stdout
    rows = [line.split() for line in field.rstrip().splitlines()[-15:]]
    # -grad f = (-2x, -2y): at the bottom corners (-2,-2), (2,-2) it points up at 45 degrees, at (0,-2) straight
    # up; at the origin it vanishes.
    assert (rows[-1][0], rows[-1][7], rows[-1][-1]) == ("↗", "↑", "↖")
    assert rows[7][7] == "·"
    tangent = run("tangent", "x**2", "--at", "1").stdout
    assert "o" in tangent.split("(*: f, .: tangent, o: point)", 1)[1]


def test_terminal_check_follows_stdout(monkeypatch) -> None:
    import io

    from numdiff_cli.cli import terminal

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not terminal.terminal_plots("auto")
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert terminal.terminal_plots("auto") and terminal.terminal_plots("table")
    assert not terminal.terminal_plots("plain") and not terminal.terminal_plots("json")


def test_unwritable_picture_is_an_error(mpl, run, tmp_path: Path) -> None:
    target = tmp_path / "missing-directory" / "picture.png"
    result = run("tangent", "x**2", "--at", "1", "--plot", str(target))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --plot {target}: cannot write the picture")


def test_grad_field_rows_cover_the_grid(run) -> None:
    from conftest import json_lines

    result = run("grad", "x*y", "--field", "--xlim", "-1,1", "--ylim", "0:2", "--format", "json")
    assert result.exit_code == 0
    rows = json_lines(result.stdout)
    assert len(rows) == 15 * 15
    xs = sorted({row["at"]["x"] for row in rows})
    ys = sorted({row["at"]["y"] for row in rows})
    assert xs == pytest.approx(np.linspace(-1, 1, 15).tolist()) and ys == pytest.approx(np.linspace(0, 2, 15).tolist())
    for row in rows:  # grad(x*y) = (y, x)
        assert row["gradient"] == pytest.approx([row["at"]["y"], row["at"]["x"]], abs=1e-12)


@pytest.mark.parametrize("limits", ["1,1", "2,1", "a,b", "1,2,3"])
def test_grad_field_bad_limits(run, limits: str) -> None:
    result = run("grad", "x*y", "--field", "--xlim", limits)
    assert result.exit_code == 2
    assert "--xlim" in result.stderr


def test_grad_field_needs_two_variables_and_no_points(run) -> None:
    for args, message in [(("x*y*z",), "two variables"), (("x*y", "--at", "1,2"), "leave out --at")]:
        result = run("grad", *args, "--field")
        assert result.exit_code == 2 and message in result.stderr
        assert result.stdout == ""


# The tangent picture shows the lesson: a window where the curve visibly leaves its tangent, poles kept out.
def departure(data: plot.TangentData) -> float:
    """How far the curve leaves the first tangent over the picture, as a share of the picture's height."""
    (xs, _), a, fa, slope = data.lines[0], data.points[0], data.values[0], data.slopes[0]
    inside = (data.x >= xs[0]) & (data.x <= xs[1]) & np.isfinite(data.y)
    gap = np.abs(data.y[inside] - (fa + slope * (data.x[inside] - a))).max()
    return float(gap / (np.nanmax(data.y) - np.nanmin(data.y)))


def picture(expr: str, at: float, xlim: tuple[float, float] | None = None) -> plot.TangentData:
    from numdiff_cli import engine, tangents
    from numdiff_cli.expr import parse_expression

    f = parse_expression(expr).function
    points = np.array([at])
    slopes = engine.gradient(f, points[None]).value[0]
    return tangents.tangent_picture(lambda x: f(x[None]), points, f(points[None]), slopes, xlim)


def test_tangent_window_shows_the_curve_leaving_its_tangent() -> None:
    # The case: over [4.25, 5.75] f = 0.01x^2 + 0.1x is straight to the eye (it leaves its tangent by
    # 0.006 of a 0.3 high picture); the chosen window shows the bend (at least 10% of the picture's height).
    data = picture("0.01*x**2 + 0.1*x", 5.0)
    assert data.x[0] < 0 and data.x[-1] > 10
    assert departure(data) >= 0.1
    narrow = picture("0.01*x**2 + 0.1*x", 5.0, (4.25, 5.75))
    assert departure(narrow) < 0.05  # the old window: no visible lesson


def test_a_nearby_pole_does_not_flatten_the_picture() -> None:
    data = picture("1/x", 0.5)
    assert data.x[0] > 0  # the window stops before the pole at 0
    assert np.isfinite(data.y).all() and departure(data) >= 0.1
    across = picture("1/x", 0.5, (-1.0, 2.0))  # asked for across the pole: values there are left out
    finite = across.y[np.isfinite(across.y)]
    assert finite.max() < 10 and finite.min() > -10
    assert np.isnan(across.y[np.abs(across.x) < 0.05]).all()  # not joined across the pole


def test_a_straight_line_gets_the_points_scale() -> None:
    data = picture("3*x + 1", 20.0)
    assert data.x[0] == pytest.approx(20 - 1.2 * 20) and data.x[-1] == pytest.approx(20 + 1.2 * 20)


def test_tangent_xlim_option(run, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "t.png"
    result = run("tangent", "1/x", "--at", "0.5", "--xlim", "0.1,2", "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run("tangent", "1/x", "--at", "0.5", "--xlim", "2,1", "--plot", str(target))
    assert bad.exit_code == 2 and "expected finite LOW < HIGH" in bad.stderr

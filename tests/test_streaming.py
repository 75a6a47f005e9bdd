"""Streaming: chunk boundaries, nothing lost, fast output paths equal to the row-by-row rendering, progress."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result
from conftest import json_lines

from numdiff_cli import points, render
from numdiff_cli.cli import output
from numdiff_cli.contract import KEYS
from numdiff_cli.points import point_chunks, stdin_chunks

# Ten lines with unreadable ones at the ends of chunks of 3: line 3 closes the first chunk, line 4 opens the
# second, line 10 is alone in the last.
LINES = ["1", "2", "foo", "", "5", "6", "7", "8", "9", "1e999"]
TEXT = "\n".join(LINES) + "\n"


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(points, "CHUNK", 3)


def outputs(run: Callable[..., Result], *args: str, input: str) -> dict[str, Result]:
    return {fmt: run(*args, "--format", fmt, input=input) for fmt in ("plain", "json", "csv")}


def test_chunk_boundaries_change_nothing(run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    whole = outputs(run, "diff", "x**3", "--at", "-", input=TEXT)
    monkeypatch.setattr(points, "CHUNK", 3)
    chunked = outputs(run, "diff", "x**3", "--at", "-", input=TEXT)
    for fmt in whole:
        assert chunked[fmt].exit_code == whole[fmt].exit_code == 2
        assert chunked[fmt].stdout == whole[fmt].stdout
        assert chunked[fmt].stderr == whole[fmt].stderr


def test_bad_lines_keep_their_place_and_number(run: Callable[..., Result], small_chunks: None) -> None:
    result = run("diff", "x**3", "--at", "-", "--format", "json", input=TEXT)
    assert result.exit_code == 2
    rows = json_lines(result.stdout)
    assert len(rows) == len(LINES)
    bad = {
        3: "line 3: cannot read 'foo' as a number",
        4: "line 4: empty line",
        10: "line 10: '1e999' is not a finite number",
    }
    for number, row in enumerate(rows, start=1):
        if number in bad:
            assert row["derivative"] is None and row["warning"] == bad[number]
        else:
            assert "warning" not in row
            assert row["at"] == float(LINES[number - 1])
            # 3x**2 by Richardson extrapolation: exact up to a few ulp of the polynomial's terms.
            assert row["derivative"] == pytest.approx(3 * row["at"] ** 2, rel=1e-12)
    assert result.stderr.splitlines() == [f"Error: {message}" for message in bad.values()]


def test_plain_output_has_one_line_per_input_line(run: Callable[..., Result], small_chunks: None) -> None:
    result = run("diff", "x**2", "--at", "-", "--format", "plain", input=TEXT)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert len(lines) == len(LINES)
    assert [line == "nan" for line in lines] == [n in (3, 4, 10) for n in range(1, 11)]


def test_fast_json_and_csv_equal_row_rendering(run: Callable[..., Result], small_chunks: None) -> None:
    """The vectorized JSON/CSV of diff must be the text render.json_line / render.csv_lines give for the rows."""
    text = "0.5\n-2\nfoo\n0\n0.001\n123456.789\n"
    # log: a domain warning at -2 and 0 (a row with a warning in the middle of a fast block).
    result = run("diff", "log(x)", "--at", "-", "--method", "central", "--format", "json", input=text)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [render.json_line(row) for row in rows] == lines
    assert {row["at"] for row in rows if "warning" not in row} == {0.5, 0.001, 123456.789}
    csv_result = run("diff", "log(x)", "--at", "-", "--method", "central", "--format", "csv", input=text)
    assert csv_result.exit_code == 2
    assert csv_result.stdout == render.csv_lines(rows, KEYS["diff"], True)


def test_multivariate_rows_fast_and_slow_paths_agree() -> None:
    good = "1,2\n3 4\n 5 , 6 \n7\t8\n,9,10,\n"
    (chunk,) = stdin_chunks(io.StringIO(good), 2)
    assert chunk.values.tolist() == [[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]]
    assert chunk.problems == {}
    # One ragged line sends the block through the per-line path: the same numbers, and the line named.
    (mixed,) = stdin_chunks(io.StringIO(good + "11 12 13\n"), 2)
    assert mixed.values[:, :5].tolist() == chunk.values.tolist()
    assert mixed.problems == {5: "line 6: expected 2 values, got 3"}


def test_grad_reads_rows_from_stdin(run: Callable[..., Result], small_chunks: None) -> None:
    result = run("grad", "x*y**2", "--at", "-", input="1,2\n3 4\nfoo bar\n5, 6\n")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    gradients = [[float(v) for v in line.split()] for line in lines]
    expected = [[4, 4], [16, 24], None, [36, 60]]
    for got, want in zip(gradients, expected):
        if want is None:
            assert all(np.isnan(got))
        else:
            assert got == pytest.approx(want, rel=1e-10)
    assert result.stderr == "Error: line 3: cannot read 'foo' as a number\n"


def test_stdin_is_read_lazily() -> None:
    """The first chunk is computed before the rest of the input is read: memory stays flat."""

    class Stream(io.StringIO):
        reads = 0

        def readlines(self, hint: int = -1) -> list[str]:  # type: ignore[override]
            Stream.reads += 1
            return super().readlines(hint)

    stream = Stream("1\n" * 1_000_000)
    chunks = point_chunks(["-"], None, ("x",), {}, stream)
    first = next(iter(chunks))
    assert first.values.shape == (1, points.CHUNK)
    assert Stream.reads == 1
    assert stream.tell() < len(stream.getvalue())


def test_range_gives_every_point(run: Callable[..., Result], small_chunks: None) -> None:
    result = run("diff", "x**2", "--range", "0:1:11", "--method", "central", "--format", "plain")
    assert result.exit_code == 0
    values = [float(line) for line in result.stdout.splitlines()]
    assert values == pytest.approx([2 * x for x in np.linspace(0, 1, 11)], abs=1e-9)


def numdiff_command() -> list[str]:
    return [sys.executable, "-m", "numdiff_cli"]


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("yes") is None, reason="needs bash and yes")
def test_issue_examples_in_a_real_pipeline(tmp_path: Path) -> None:
    command = " ".join(numdiff_command())
    seq = subprocess.run(
        ["bash", "-c", f"printf '1\\n2\\n3\\n4\\n5\\n' | {command} diff 'x**2' --at - --format plain"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert seq.returncode == 0 and seq.stderr == ""
    assert [float(v) for v in seq.stdout.split()] == pytest.approx([2.0, 4.0, 6.0, 8.0, 10.0], rel=1e-12)
    # numdiff's own exit status (yes and head die of SIGPIPE once numdiff stops reading, as they should).
    script = f"yes 1 | head -n 3000000 | {command} diff 'x**2' --at - | head -1; echo status ${{PIPESTATUS[2]}}"
    head = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert head.stdout == "2.0\nstatus 0\n"
    assert head.stderr == ""


class TerminalStderr(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_a_terminal_stderr_only(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr(output, "PROGRESS_AFTER", 0.0)
    monkeypatch.delenv("NUMDIFF_NO_PROGRESS", raising=False)
    terminal = TerminalStderr()
    monkeypatch.setattr(sys, "stderr", terminal)
    stdout = sys.stdout
    progress = output.Progress()
    progress.advance(1000)
    assert progress.live is not None
    assert sys.stdout is stdout  # results keep going to stdout, not through the display
    print("result")
    progress.advance(2000)
    progress.stop()
    assert "3,000 points" in terminal.getvalue()
    assert "result" not in terminal.getvalue()
    assert capsys.readouterr().out == "result\n"


def test_messages_during_progress_go_above_it(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr(output, "PROGRESS_AFTER", 0.0)
    terminal = TerminalStderr()
    monkeypatch.setattr(sys, "stderr", terminal)
    progress = output.Progress()
    progress.advance(10)
    assert progress.live is not None  # the display is shown, so the message has to go above it
    echoed: list[Any] = []
    monkeypatch.setattr(output.click, "echo", lambda *args, **kwargs: echoed.append(args))
    output.stderr("Error: line 7: cannot read '[bold]x' as a number")
    progress.stop()
    assert echoed == []  # printed by the display's console, not written beside the display
    assert output.Progress.live_console is None
    assert "Error: line 7: cannot read '[bold]x' as a number" in terminal.getvalue()  # markup not interpreted
    assert capsys.readouterr().out == ""


def test_no_progress_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    progress = output.Progress()
    progress.advance(1000)
    assert progress.live is None
    assert sys.stderr.getvalue() == ""

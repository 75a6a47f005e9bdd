"""Streaming: chunk boundaries, nothing lost, fast output paths equal to the row-by-row rendering, progress."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result
from conftest import json_lines

from numdiff_cli import points, render
from numdiff_cli.cli import output
from numdiff_cli.cli import terminal as terminal_module
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
    monkeypatch.setattr(terminal_module, "PROGRESS_AFTER", 0.0)
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
    monkeypatch.setattr(terminal_module, "PROGRESS_AFTER", 0.0)
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
    monkeypatch.setattr(terminal_module, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    progress = output.Progress()
    progress.advance(1000)
    assert progress.live is None
    assert sys.stderr.getvalue() == ""


# A terminal that keeps up: long tables stream, tables fit the terminal, --range shows a percentage.
def in_terminal(command: str, columns: int = 80, timeout: float = 120) -> str:
    """Run ``command`` (bash) with stdout and stderr on a real pseudo-terminal of ``columns`` columns; its output."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: a shell on the terminal
        os.environ.pop("COLUMNS", None)  # the terminal's own width decides
        os.environ.update({"NO_COLOR": "1", "TERM": "xterm"})
        os.execvp("bash", ["bash", "-c", command])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not data:
                break
            chunks.append(data)
    os.waitpid(pid, 0)
    text = b"".join(chunks).decode("utf-8", "replace")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)  # styles and cursor moves take no columns


def installed() -> str:
    return str(Path(sys.executable).parent / "numdiff")


def test_a_long_table_on_a_terminal_streams_its_rows(tmp_path: Path) -> None:
    # 5,000 points on a real terminal (the default format is then the table): rows come as they are computed.
    script = f"seq 1 5000 | NUMDIFF_NO_PROGRESS=1 {installed()} diff 'x**2' --at -; echo status $?"
    text = in_terminal(script).replace("\r\n", "\n")
    lines = text.splitlines()
    assert lines[-1] == "status 0"
    assert lines[0].startswith(f"Note: more than {output.STREAM_AFTER} rows: printing them as they come")
    assert lines[1:3] == ["d/dx x**2", "var: x  order: 1  method: auto"]
    assert lines[3].split() == ["at", "h", "derivative", "error", "warning"]
    rows = lines[4:-1]
    assert len(rows) == 5000
    assert rows[0].split()[:3] == ["1.0", "0.265625", "2.0"]
    assert rows[-1].split()[0] == "5000.0" and rows[-1].split()[2] == "10000.0"
    assert max(len(line) for line in lines[1:]) <= 80  # the note (stderr) is one line the terminal wraps


def test_streaming_writes_before_the_input_ends(tmp_path: Path) -> None:
    # The first rows are on the terminal while standard input is still open: nothing waits for the end.
    # (Timed against the moment the last point is written, not against the last row: on a loaded machine the
    # command's start-up takes a good part of the writer's pause.)
    fifo, written = tmp_path / "points", tmp_path / "written"
    os.mkfifo(fifo)
    # stdout is a pipe here, so the table is asked for: the streaming layout is the same as on a terminal.
    script = (
        f"(seq 1 2000; sleep 3; date +%s.%N > {written}; echo 2001) > {fifo} & NUMDIFF_NO_PROGRESS=1 {installed()}"
        f" diff 'x**2' --at - --format table < {fifo}"
        ' | while IFS= read -r line; do echo "$(date +%s.%N) $line"; done'
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    stamped = [line.split(" ", 1) for line in result.stdout.splitlines()]
    first_row = next(float(t) for t, line in stamped if line.split()[:1] == ["1.0"])
    last_row = next(float(t) for t, line in stamped if line.split()[:1] == ["2001.0"])
    last_point = float(written.read_text())
    assert first_row < last_point <= last_row  # row 1 was out before the last point was even written


def test_long_table_memory_stays_flat(tmp_path: Path) -> None:
    # The streamed table holds one chunk of rows at a time: its peak memory does not grow with the number of rows
    # (three times the rows, the same peak give or take the allocator's), and stays within one chunk's rendered
    # rows (65,536 of them: some 30 MB of text and cells) of the plain format's. Measured past the first chunks: the
    # C allocator, its thresholds fixed by the command (numdiff_cli/allocator.py), keeps freed memory for reuse and
    # settles after about four chunks (107 MB at 100,000 rows, 128 at 300,000, 129 at 600,000 and 900,000; with
    # its thresholds left to move, 93, 106 and 106).
    # The same thousand points over and over, so that every chunk costs the engine the same: its passes, and their
    # memory, depend on the points (x**2 at 2e5 takes a pass of steps relative to |x| that x at 10 does not).
    def peak(fmt: str, rows: int) -> int:
        points = f"seq 1 {rows} | awk '{{print $1 % 1000 + 1}}'"
        script = f"{points} | /usr/bin/time -f '%M' {installed()} diff 'x**2' --at - --format {fmt} > /dev/null"
        result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300)
        return int(result.stderr.strip().splitlines()[-1])

    if not Path("/usr/bin/time").exists():
        pytest.skip("needs /usr/bin/time for the peak memory")
    # Compiled once first: a call that compiles the expression also imports sympy (some 30 MB), whatever its rows.
    subprocess.run([installed(), "diff", "x**2", "--at", "1"], capture_output=True, check=True, timeout=60)
    table = peak("table", 900_000)
    assert table < 1.2 * peak("table", 300_000)
    assert table < peak("plain", 900_000) + 64 * 1024  # kB


@pytest.mark.parametrize(
    ("args", "dropped"),
    [
        pytest.param(["hessian", "x*y*z", "--at", "1,2,3"], "error", id="hessian"),
        pytest.param(["compare", "exp(3*x**2)", "--at", "1", "--at", "2"], "rel_error, h", id="compare"),
        pytest.param(["descend", "x**2 + y**2", "--from", "1,1", "--trace"], None, id="descend"),
    ],
)
def test_tables_fit_the_terminal_width(run, args: list[str], dropped: str | None) -> None:
    result = run(*args, "--format", "table", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    if dropped:
        assert f"not shown (terminal too narrow): {dropped}" in " ".join(result.stdout.split())


def test_tables_fit_a_real_terminal() -> None:
    text = in_terminal(f"{installed()} hessian 'x*y*z' --at 1,2,3", columns=60)
    lines = text.replace("\r\n", "\n").splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "[[0.0, 3.0, 2.0]," in text  # every value is there, folded if it must


def test_wide_table_without_a_terminal_keeps_every_column(run) -> None:
    # A table asked for in a pipe, without COLUMNS: no terminal to fit, every column in full.
    result = run("compare", "exp(3*x**2)", "--at", "1", "--format", "table")
    assert "analytic_expr" in result.stdout and "rel_error" in result.stdout


def test_progress_over_a_range_shows_a_percentage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terminal_module, "PROGRESS_AFTER", 0.0)
    monkeypatch.delenv("NUMDIFF_NO_PROGRESS", raising=False)
    display = TerminalStderr()
    monkeypatch.setattr(sys, "stderr", display)
    progress = output.Progress(4000)
    progress.advance(1000)
    progress.stop()
    assert "25%" in display.getvalue() and "1,000/4,000 points" in display.getvalue()


def test_range_progress_on_a_real_terminal() -> None:
    # Slow enough to show the display (0.5 s): a million points of --range, results to /dev/null.
    text = in_terminal(f"{installed()} diff 'sin(x)' --range 0:1:3000000 --format plain > /dev/null", 100)
    assert "%" in text and "/3,000,000 points" in text


@pytest.mark.parametrize(
    ("at", "range_text", "total"),
    [(("1", "2"), None, 2), (("1",), "0:1:5", 6), (("-",), None, None), ((), "0:1:x", None)],
)
def test_target_total(at: tuple[str, ...], range_text: str | None, total: int | None) -> None:
    from numdiff_cli.cli.options import Target

    assert Target(at, range_text, None, 1).total == total

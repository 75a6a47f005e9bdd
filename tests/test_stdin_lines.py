"""Standard input as it comes: results of a slow producer's lines before its input ends, lines the same as the text
layer's, whole chunks from a fast producer."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from numdiff_cli.stdin_lines import LineReader

posix_only = pytest.mark.skipif(os.name != "posix", reason="reads as it comes on POSIX only")


def installed() -> str:
    return str(Path(sys.executable).parent / "numdiff")


def read_line(stream: io.BufferedReader, timeout: float = 60.0) -> str:
    """One line of a subprocess's output, failing the test if none comes within ``timeout``."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return stream.readline().decode()


@posix_only
@pytest.mark.parametrize(
    ("arguments", "lines", "results"),
    [
        (["diff", "x**2"], ["1", "3"], ["2.0", "6.0"]),
        (["grad", "x*y"], ["1,2", "3 4"], ["2.0 1.0", "4.0 3.0"]),
        # (A vector variable: its first line is read early for its shape, and stays to be computed.)
        (["grad", "sum(v**2)"], ["1,2", "3,4"], ["2.0 4.0", "6.0 8.0"]),
        (["tangent", "x**2"], ["1", "2"], None),
    ],
)
def test_each_line_is_answered_before_the_next_is_written(
    arguments: list[str], lines: list[str], results: list[str] | None
) -> None:
    # A producer that waits for the answer to each line before it writes the next (a person typing, a script in a
    # loop): with the lines read in chunks of 65,536 or to the end of the input, it waited for ever.
    process = subprocess.Popen(
        [installed(), *arguments, "--at", "-", "--format", "plain"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NUMDIFF_NO_PROGRESS": "1"},
    )
    assert process.stdin is not None and process.stdout is not None
    answers = []
    try:
        for line in lines:
            process.stdin.write(line.encode() + b"\n")
            process.stdin.flush()
            answers.append(read_line(process.stdout).strip())  # type: ignore[arg-type]
    finally:
        process.stdin.close()
        rest = process.stdout.read().decode()
        process.wait(timeout=60)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    assert rest == ""
    if results is not None:
        assert answers == results
    else:
        assert len(answers) == len(lines) and all(answers)


def through_pipe(data: bytes, chunks: list[bytes] | None = None) -> io.TextIOWrapper:
    """A text stream as Python makes standard input (utf-8, surrogateescape, lines split at \\n only) over a real
    pipe, written by a thread (in ``chunks`` if given)."""
    read_end, write_end = os.pipe()

    def write() -> None:
        with os.fdopen(write_end, "wb", buffering=0) as out:
            for part in chunks if chunks is not None else [data]:
                out.write(part)

    threading.Thread(target=write, daemon=True).start()
    return io.TextIOWrapper(os.fdopen(read_end, "rb"), encoding="utf-8", errors="surrogateescape", newline="\n")


CORPUS = [
    b"1\n2\n3\n",
    b"1\n2\n3",  # no newline at the end
    b"",
    b"\n\n\n",
    b"1\r\n2\r3\n",  # \r is not a line end of standard input
    b"1\n\xff\xfe\n3\n",  # bytes that are not utf-8
    "1\n\u00e9\u2028x\n\u0661\n".encode(),  # other scripts; U+2028 is no line end either
    b"1, 2\n3\t4\n" * 1000,
    b"x" * 3_000_000 + b"\n1\n",  # a line longer than a read
]


@posix_only
@pytest.mark.parametrize("data", CORPUS)
@pytest.mark.parametrize("pieces", [1, 7])
def test_lines_are_those_of_the_text_layer(data: bytes, pieces: int) -> None:
    # Written in one piece and in pieces that cut lines and utf-8 sequences anywhere: the same lines as the text
    # layer's readlines gives (without their \n), in order.
    expected = [line[:-1] if line.endswith("\n") else line for line in through_pipe(data).readlines()]
    cut = [data[i * len(data) // pieces : (i + 1) * len(data) // pieces] for i in range(pieces)]
    reader = LineReader(through_pipe(data, cut))
    assert reader.fd is not None  # (the reading as it comes, not the text layer's)
    got = [line for batch in reader.batches(1000) for line in batch]
    assert got == expected
    assert all(0 < len(batch) <= 1000 for batch in LineReader(through_pipe(data)).batches(1000))


@posix_only
def test_peek_leaves_the_first_line_to_be_read() -> None:
    reader = LineReader(through_pipe(b"1,2\n3,4"))
    assert reader.peek() == "1,2\n"
    assert reader.peek() == "1,2\n"
    assert [line for batch in reader.batches(10) for line in batch] == ["1,2", "3,4"]
    last = LineReader(through_pipe(b"5"))
    assert last.peek() == "5"
    assert LineReader(through_pipe(b"")).peek() == ""


def test_in_memory_streams_are_read_by_their_text_layer() -> None:
    reader = LineReader(io.StringIO("1\n2\n3"))
    assert reader.fd is None
    assert reader.peek() == "1\n"
    assert list(reader.batches(2)) == [["1", "2"], ["3"]]


@posix_only
def test_a_fast_producer_gives_whole_chunks() -> None:
    # seq writes as fast as the pipe takes it: the pause that hands a batch on is not mistaken for its writes.
    code = (
        "import sys; from numdiff_cli.stdin_lines import LineReader; "
        "print([len(b) for b in LineReader(sys.stdin).batches(65536)])"
    )
    result = subprocess.run(
        f"seq 1 300000 | {sys.executable} -c '{code}'", shell=True, capture_output=True, text=True, check=True
    )
    sizes = [int(size) for size in result.stdout.strip()[1:-1].split(",")]
    # (Whole chunks but the last: [65536, 65536, 65536, 65536, 37856]; a stall of seq on a loaded machine may cut
    # one or two, no more.)
    assert sum(sizes) == 300000 and max(sizes) == 65536 and len(sizes) <= 7


@posix_only
def test_a_producer_that_never_pauses_sees_results_as_it_goes() -> None:
    # A line every 20 ms, never the pause of 50 ms that hands a batch on: the first line's result must come while
    # the producer is still writing (it came after all 150 lines, with the pause alone), half a second after its
    # line at most once the command has started.
    process = subprocess.Popen(
        [installed(), "diff", "x**2", "--at", "-", "--format", "plain"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NUMDIFF_NO_PROGRESS": "1"},
    )
    assert process.stdin is not None and process.stdout is not None
    first_seen_after = None
    for line in range(1, 151):
        process.stdin.write(f"{line}\n".encode())
        process.stdin.flush()
        if first_seen_after is None and select.select([process.stdout], [], [], 0.02)[0]:
            first_seen_after = line
    process.stdin.close()
    results = process.stdout.read().decode().split()
    process.wait(timeout=60)
    assert results == [repr(2.0 * line) for line in range(1, 151)]
    assert first_seen_after is not None and first_seen_after < 150


@posix_only
def test_a_non_blocking_descriptor_is_read_to_its_end() -> None:
    # Standard input left non-blocking by whoever started the command: an empty read there means "nothing yet",
    # not the end (it printed the result of the lines before the first pause and stopped, exit 0).
    start = "import os, sys; os.set_blocking(0, False); os.execv(sys.argv[1], sys.argv[1:])"
    process = subprocess.Popen(
        [sys.executable, "-c", start, installed(), "diff", "x**2", "--at", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    for line in ("1", "2", "3"):
        process.stdin.write(f"{line}\n".encode())
        process.stdin.flush()
        time.sleep(0.3)
    process.stdin.close()
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    assert process.wait(timeout=60) == 0, err.decode()
    assert out.decode().split() == ["2.0", "4.0", "6.0"]

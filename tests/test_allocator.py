"""The C allocator's thresholds (numdiff_cli/numerics/allocator.py): with them fixed, the short-lived arrays of a pass
are served from the heap, not from pages the kernel faults in and zeroes again for each; the numdiff command fixes
them at its start, and leaves them to the user who set them in the environment. Each case runs in a fresh Python
process and counts its page faults (the thresholds are the process's)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from numdiff_cli import engine
from numdiff_cli.numerics import allocator
from numdiff_cli.numerics.allocator import USER_SETTINGS, keep_arrays_in_heap
from numdiff_cli.numerics.steps import FAST_BLOCK, FAST_BLOCK_IN_HEAP, fast_block

# Four arrays of 1.6 MB alive at once, then freed, 50 times: the pattern of the engine's passes (glibc's moving
# thresholds give the freed top of the heap back after each round, and the next round faults it in again).
WORK = """
import resource, sys
import numpy as np
SETUP
def work():
    arrays = [np.ones(200_000) for _ in range(4)]
    return sum(float(a[0]) for a in arrays)
work()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    work()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

TUNED = "from numdiff_cli.numerics.allocator import keep_arrays_in_heap\nassert keep_arrays_in_heap()"
# The command itself, as the console script runs it (its exit caught, to go on in the same process).
COMMAND = """
sys.argv = ["numdiff", "diff", "x**2", "--at", "1"]
from numdiff_cli.cli import main
try:
    main()
except SystemExit as done:
    assert done.code == 0, done.code
"""


def faults(setup: str, env: dict[str, str] | None = None) -> int:
    clean = {k: v for k, v in os.environ.items() if k not in USER_SETTINGS}
    done = subprocess.run(
        [sys.executable, "-c", WORK.replace("SETUP", setup)],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        check=True,
    )
    return int(done.stdout.split()[-1])


def glibc() -> bool:
    return sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None


needs_glibc = pytest.mark.skipif(not glibc(), reason="the thresholds are glibc's")


@needs_glibc
def test_fixed_thresholds_keep_the_arrays_of_a_pass_in_the_heap() -> None:
    moving = faults("")
    assert moving > 10_000  # (the case is about them: 4 x 400 pages per round, faulted in again)
    assert faults(TUNED) < moving / 100


@needs_glibc
def test_the_command_fixes_them_at_its_start() -> None:
    assert faults(COMMAND) < faults("") / 100


@needs_glibc
@pytest.mark.parametrize("name", USER_SETTINGS)
def test_a_threshold_the_user_set_is_followed(name: str) -> None:
    # The command leaves glibc's thresholds as the user set them: with a trim threshold of 0 every round gives its
    # memory back, and the faults are the user's choice.
    user = {name: "65536" if name == "MALLOC_MMAP_MAX_" else "0"}
    if name == "MALLOC_TRIM_THRESHOLD_":
        assert faults(COMMAND, user) > 10_000
    else:
        check = "from numdiff_cli.numerics.allocator import keep_arrays_in_heap\nassert not keep_arrays_in_heap()"
        faults(check, user)


def test_nothing_is_set_where_the_user_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in USER_SETTINGS:
        monkeypatch.setenv(name, "0")
        assert not keep_arrays_in_heap()
        monkeypatch.delenv(name)


@pytest.mark.parametrize(
    "f, low, high",
    [
        (lambda x: np.exp(np.sin(x)), -10.0, 10.0),
        (np.log, 1e3, 1e6),
        (lambda x: 1 / x, 1e-4, 1e-2),
        (lambda x: np.tanh(100 * x), -0.05, 0.05),
        (lambda x: np.sin(50 * x), -1.0, 1.0),
    ],
)
def test_the_blocks_of_a_pass_change_no_result(f, low: float, high: float, monkeypatch: pytest.MonkeyPatch) -> None:
    # The passes' blocks are three times larger where the thresholds are fixed (steps.fast_block): each point's
    # value, error and status are the same bit for bit, whatever the points its block holds.
    rng = np.random.default_rng(7)
    x = rng.uniform(low, high, 30_000) if low < 0 else np.exp(rng.uniform(np.log(low), np.log(high), 30_000))
    results = []
    for fixed in (False, True):
        monkeypatch.setitem(allocator._state, "set", fixed)
        assert fast_block() == (FAST_BLOCK_IN_HEAP if fixed else FAST_BLOCK)
        with np.errstate(all="ignore"):
            results.append(engine.derivative(f, x, method="auto"))
    small, large = results
    np.testing.assert_array_equal(small.value, large.value)
    np.testing.assert_array_equal(small.error, large.error)
    np.testing.assert_array_equal(small.status, large.status)

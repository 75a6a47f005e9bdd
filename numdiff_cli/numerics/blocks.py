"""How many values of f the fast and scaled passes evaluate per block of points (:func:`fast_block`). Without numpy,
so that a process can set it at its start (:mod:`numdiff_cli.allocator`, which the numdiff command calls before it
imports anything heavy).

About :data:`FAST_BLOCK` values of f per block: a block's temporaries stay in the CPU cache and below the size at
which the C allocator, its thresholds left to move, maps fresh pages for each. Where a process has fixed them (as the
numdiff command does), larger blocks are served from the heap and spend less of their time in numpy's per-call
overhead: :data:`FAST_BLOCK_IN_HEAP` values, 10-16% less time on ``log(x)``, ``1/x``, ``sqrt(x)``, ``x**2.5``,
``exp(x/1000)`` and ``tanh(100*x)`` of the throughput benchmark's families (2% more on ``exp(sin(x))``, whose f's
temporaries leave the cache; blocks three times as large again were 2-10% slower on all). Each point's result is the
same whatever its block.
"""

from __future__ import annotations

FAST_BLOCK = 40_000
FAST_BLOCK_IN_HEAP = 120_000
_BLOCK = {"values": FAST_BLOCK}


def fast_block() -> int:
    """The values of f per block of points of the fast and scaled passes."""
    return _BLOCK["values"]


def set_fast_block(values: int) -> None:
    """Make the blocks of the fast and scaled passes hold about ``values`` values of f."""
    _BLOCK["values"] = values

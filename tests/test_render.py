"""render.py: values -> plain / JSON / CSV strings."""

from __future__ import annotations

import json
import math

import numpy as np

from numdiff_cli.render import clean, csv_lines, json_line, number, short, table


def test_clean_turns_non_finite_into_none() -> None:
    assert clean({"a": [1.0, math.nan, np.float64(math.inf)], "b": np.array([2.0])}) == {
        "a": [1.0, None, None],
        "b": [2.0],
    }


def test_number_is_repr() -> None:
    assert number(7.000000000019213) == "7.000000000019213"
    assert number(0.1 + 0.2) == "0.30000000000000004"
    assert number(None) == "nan"


def test_short_reads_like_the_textbook() -> None:
    assert short(0.19999999999999998) == "0.2"
    assert short(-0.25000000000000006) == "-0.25"


def test_json_line_is_one_strict_object() -> None:
    line = json_line({"x": math.nan, "y": [1.0, math.inf], "z": "a\nb"})
    assert "\n" not in line
    assert json.loads(line) == {"x": None, "y": [1.0, None], "z": "a\nb"}


def test_csv_has_header_once_and_json_cells() -> None:
    rows = [{"at": {"x": 1.0}, "gradient": [1.0, 2.0], "v": math.nan, "warning": "w, with comma"}]
    text = csv_lines(rows, ["at", "gradient", "v"], header=True)
    assert text.splitlines() == ["at,gradient,v,warning", '"{""x"":1.0}","[1.0,2.0]",,"w, with comma"']
    assert csv_lines(rows, ["v"], header=False).splitlines() == [',"w, with comma"']


def test_table_escapes_markup() -> None:
    from rich.console import Console

    console = Console(width=100, record=True, color_system=None)
    console.print(table([{"expr": "[bold]x", "at": 1.0, "derivative": 2.0}], ["expr", "at", "derivative"], "[red]t"))
    text = console.export_text()
    assert "[red]t" in text and "2.0" in text

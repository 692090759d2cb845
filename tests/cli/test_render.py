"""Terminal tables never show a clipped number: too narrow a terminal gets one block per row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rich.console import Console

from foliodb.cli import render

ROWS = [
    {"symbol": "AAPL", "market_value_base": Decimal("1234567.891"), "weight": Decimal("0.5")},
    {"symbol": "SHOP.TO", "market_value_base": Decimal("-98765.4"), "weight": Decimal("0.5")},
]


@pytest.mark.parametrize("width", [30, 45, 60, 200])
def test_every_value_is_printed_whole_at_any_terminal_width(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(render, "console", Console(width=width, color_system=None))

    render.emit(ROWS, "table", title="Positions")

    out = capsys.readouterr().out
    for value in ("AAPL", "SHOP.TO", "1,234,567.89", "-98,765.40", "50.00%"):
        assert value in out, (width, out)
    assert all(len(line) <= width for line in out.splitlines())


def test_a_narrow_terminal_shows_one_block_per_row(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(render, "console", Console(width=30, color_system=None))

    render.emit(ROWS, "table", title="Positions")

    out = capsys.readouterr().out
    assert "1 of 2" in out
    assert "2 of 2" in out


def test_an_empty_table_says_none(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(render, "console", Console(width=80, color_system=None))

    render.emit([], "table", title="Realized gains")

    assert capsys.readouterr().out.strip() == "Realized gains: none"

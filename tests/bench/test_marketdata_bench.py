"""The market-data benchmark keeps running: a tiny run prints every figure with its reference."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "marketdata.py"
KEYS = {
    "bench", "engine", "unit", "rows", "seconds", "rows_per_s", "reference",
    "reference_seconds", "reference_rows_per_s", "ratio", "repeat", "note", "skipped",
}  # fmt: skip


def test_a_tiny_market_data_run_prints_every_figure_with_its_reference() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "1170", "--symbols", "3", "--queries", "3",
         "--no-postgres"],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "CI": ""},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert all(set(line) == KEYS for line in lines)
    assert [(line["bench"], line["engine"]) for line in lines] == [
        ("import_bars", "postgresql"),  # skipped: --no-postgres
        ("import_bars", "sqlite"),
        ("rollup_1d", "sqlite"),
        ("latest_bar", "sqlite"),
        ("day_query", "sqlite"),
    ]
    assert lines[0]["skipped"] == "disabled with --no-postgres"
    for line in lines[1:]:
        assert line["seconds"] > 0 and line["reference_seconds"] > 0 and line["ratio"] > 0
    assert lines[1]["rows"] == 1170
    assert "3 daily bars written" in lines[2]["note"]

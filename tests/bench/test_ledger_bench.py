"""The ledger benchmark keeps running: a tiny run prints one well-formed JSON line per figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ledger.py"
KEYS = {
    "bench", "engine", "unit", "rows", "seconds", "rows_per_s", "reference",
    "reference_seconds", "reference_rows_per_s", "ratio", "repeat", "note", "skipped",
}  # fmt: skip


def test_a_small_benchmark_run_prints_every_figure_with_its_reference() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "1500", "--lots", "200", "--no-postgres",
         "--repeat", "1"],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "CI": ""},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert all(set(line) == KEYS for line in lines)
    measured = {(line["bench"], line["engine"]) for line in lines if not line["skipped"]}
    assert {
        ("import_transactions", "sqlite"),
        ("parse_transactions", "python"),
        ("replay", "python"),
        ("valuation.value", "python"),
        ("Database.valuation", "sqlite"),
    } <= measured
    for line in lines:
        if not line["skipped"]:
            assert line["seconds"] > 0
            assert line["reference_seconds"] > 0
            assert line["ratio"] > 0


def test_a_small_analytics_benchmark_run_agrees_with_its_reference() -> None:
    bench = BENCH.parent / "analytics.py"
    run = subprocess.run(
        [sys.executable, str(bench), "--series", "20", "--days", "300", "--repeat", "1"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(line["bench"], line["rows"]) for line in lines] == [
        ("metrics.full_set", 1),
        ("metrics.summary", 1),
        ("metrics.full_set", 20),
        ("metrics.summary", 20),
    ]
    assert all(set(line) == KEYS for line in lines)
    assert all("figures agree: True" in line["note"] for line in lines)


def test_a_small_history_benchmark_run_agrees_with_its_reference() -> None:
    bench = BENCH.parent / "history.py"
    run = subprocess.run(
        [sys.executable, str(bench), "--years", "1", "--transactions", "40"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    (line,) = [json.loads(text) for text in run.stdout.splitlines()]
    assert set(line) == KEYS
    assert line["rows"] > 250
    assert "last NAV agrees: True" in line["note"]

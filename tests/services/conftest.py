"""Fixtures of the service tests: a CSV writer (`db` comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import CsvFiles


@pytest.fixture
def files(tmp_path: Path) -> CsvFiles:
    return CsvFiles(tmp_path)

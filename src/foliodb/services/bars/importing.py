"""Importing bar files: read and checked whole (foliodb.ingest.bars), written in one
transaction with the roll-ups they change, retried when a concurrent writer gets in the way."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from foliodb.errors import ConflictError, InputError, InputProblem
from foliodb.services.bars import rollups as rolling
from foliodb.services.bars.rollups import RollupResult
from foliodb.store import repos
from foliodb.store.repos import bars as store
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:  # pandas and pyarrow load when bars are read, not at start-up
    from foliodb.columnar.bars import BarColumns
    from foliodb.ingest.bars import BarLoad

log = logging.getLogger("foliodb.services.bars")  # one logger for the bar service's modules

ON_CONFLICT = ("skip", "update", "error")
SOURCE_WIDTH = 64

#: progress(stage, done, total): "reading FILE", "checking", "writing" (rows), "rolling up".
Progress = Callable[[str, int, int], None]


@dataclasses.dataclass(frozen=True)
class BarImportResult:
    files: tuple[str, ...]
    interval: str
    rows_read: int
    inserted: int
    updated: int
    skipped: int
    rejected: int
    seconds: float
    rollups: tuple[RollupResult, ...] = ()
    reject_file: str | None = None
    partitions_created: tuple[str, ...] = ()

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0


def import_files(
    engine: Engine,
    paths: Sequence[str | Path] | str | Path,
    interval: str,
    source: str | None = None,
    on_conflict: str = "skip",
    column_map: Mapping[str, str] | Iterable[str] | None = None,
    reject_file: str | Path | None = None,
    progress: Progress | None = None,
    symbol: str | None = None,
    rollup: bool = True,
) -> BarImportResult:
    """Load bar files in one transaction: `Bars.import_files`, which says how."""
    from foliodb.ingest import bars as ingest

    started = time.perf_counter()
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    interval = ingest.parse_interval(interval)
    source = _source(source)
    if on_conflict not in ON_CONFLICT:
        raise InputError(
            InputProblem(
                "is not a conflict rule", field="on_conflict", value=on_conflict,
                expected=" or ".join(ON_CONFLICT),
            )
        )  # fmt: skip
    if not files:
        raise InputError(InputProblem("no file given", field="files", expected="a path"))
    mapping = ingest.parse_column_map(column_map)
    load = ingest.read_bars(files, interval, mapping, symbol, progress)
    if len(load.violations) and reject_file is None:
        raise InputError(load.problems())
    created = _ensure_partitions(engine, interval, load.bars, rollup)
    for attempt in range(3):
        try:
            counts, rollups = _store(engine, load, interval, source, on_conflict, rollup, progress)
            break
        except IntegrityError as exc:
            # A partition dropped by retention meanwhile, or a concurrent writer: again.
            if attempt == 2:
                raise ConflictError(
                    f"importing bars kept conflicting with concurrent writes; nothing was "
                    f"written, run it again ({exc.orig})"
                ) from exc
            created += _ensure_partitions(engine, interval, load.bars, rollup)
    rejected = 0
    if reject_file is not None:
        load.write_rejects(Path(reject_file))
        rejected = load.rejected
    skipped = len(load.bars) - counts.inserted - counts.updated
    result = BarImportResult(
        files=tuple(str(f) for f in files),
        interval=interval,
        rows_read=load.rows_read,
        inserted=counts.inserted,
        updated=counts.updated,
        skipped=skipped,
        rejected=rejected,
        seconds=time.perf_counter() - started,
        rollups=tuple(rollups),
        reject_file=None if reject_file is None else str(reject_file),
        partitions_created=tuple(created),
    )
    log.info(
        "imported %d %s bars from %d files: %d inserted, %d updated, %d skipped, "
        "%d rejected, %.2fs (%.0f rows/s)",
        result.rows_read, interval, len(files), result.inserted, result.updated,
        result.skipped, result.rejected, result.seconds, result.rows_per_s,
    )  # fmt: skip
    return result


def _ensure_partitions(engine: Engine, interval: str, bars: BarColumns, rollup: bool) -> list[str]:
    if engine.dialect.name != "postgresql" or not len(bars):
        return []
    parts = store.partitions_covering(interval, bars.ts)
    if rollup:
        for target in rolling.coarser_targets(interval):
            # A roll-up's bucket starts in its bar's month, but a daily label (00:00 UTC
            # of the local date) can fall up to 14 hours either side of its bars.
            margin = store.DAY_US if target == "1d" else 0
            parts |= store.partitions_covering(target, bars.ts, margin)
    return store.ensure_partitions(engine, parts)


def _store(
    engine: Engine,
    load: BarLoad,
    interval: str,
    source: str,
    on_conflict: str,
    rollup: bool,
    progress: Progress | None,
) -> tuple[store.WriteCounts, list[RollupResult]]:
    batch = load.bars
    total = len(batch)

    def written(done: int) -> None:
        if progress is not None:
            progress("writing", done, total)

    with UnitOfWork(engine) as uow:
        counts = store.write_bars(uow.session, interval, source, batch, on_conflict, written)
        if len(counts.conflicts):
            raise InputError(_conflicts(load, counts.conflicts))
        rollups: list[RollupResult] = []
        unchanged = counts.unchanged
        changed = batch.take(~np.isin(batch.ref, unchanged)) if len(unchanged) else batch
        store.analyze_new_partitions(uow.session, interval, changed.ts)
        if rollup and len(changed):
            store.lock_symbols(uow.session, changed.symbols)
            targets = rolling.coarser_targets(interval)
            for number, target in enumerate(targets):
                if progress is not None:
                    progress(f"rolling up {target}", number, len(targets))
                rollups.append(rolling.rollup_changed(uow, changed, target))
        if counts.inserted or counts.updated:
            repos.audit(
                uow.session, "import_bars", "ohlcv_bars", interval,
                after={
                    "files": [s.name for s in load.files], "inserted": counts.inserted,
                    "updated": counts.updated, "source": source,
                },
            )  # fmt: skip
        uow.commit()
    return counts, rollups


def _source(source: str | None) -> str:
    value = (source or "").strip()
    if value == store.ROLLUP:
        raise InputError(
            InputProblem(
                "is reserved for bars foliodb derives", field="source", value=value,
                expected="a vendor's name",
            )
        )  # fmt: skip
    if len(value) > SOURCE_WIDTH:
        raise InputError(
            InputProblem(
                f"is longer than {SOURCE_WIDTH} characters", field="source", value=value,
                expected=f"at most {SOURCE_WIDTH} characters",
            )
        )  # fmt: skip
    return value


def _conflicts(load: BarLoad, refs: Any) -> list[InputProblem]:
    problems = []
    for ref in refs[:100]:
        name, line = load.where(int(ref))
        problems.append(
            InputProblem(
                "a different bar is already stored for this symbol and ts",
                name, line, "ts", None,
                "--on-conflict skip (keep the stored bar) or update (replace it)",
            )
        )  # fmt: skip
    if len(refs) > 100:
        problems.append(InputProblem(f"... and {len(refs) - 100:,} more conflicting rows"))
    return problems

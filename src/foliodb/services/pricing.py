"""Market inputs and pricing packs: import prices, FX and securities; build and seal packs."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foliodb.domain import ledger
from foliodb.domain.money import EXACT
from foliodb.domain.pricing import FxTable
from foliodb.domain.types import (
    BookingMethod,
    FxRate,
    PackPrice,
    PackStatus,
    PricingPack,
    Security,
    SecurityType,
)
from foliodb.errors import InputError, InputProblem
from foliodb.ingest import csv_files
from foliodb.services import widths
from foliodb.services.results import ImportResult, PackResult, PackSummary
from foliodb.services.retry import rerun_on_conflict
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.repos import bars as bar_repos
from foliodb.store.tables import PortfolioRow
from foliodb.store.uow import UnitOfWork

log = logging.getLogger(__name__)


def _audit_import(
    uow: UnitOfWork,
    action: str,
    entity: str,
    path: Path,
    added: int,
    updated: int,
    source: str | None = None,
) -> None:
    """One audit entry for an import that changed something (none for a no-op re-import)."""
    if added or updated:
        after = {"file": str(path), "added": added, "updated": updated, "source": source}
        repos.audit(uow.session, action, entity, path.name[:128], after=after)


def _logged(result: ImportResult, started: float) -> ImportResult:
    log.info(
        "imported %s: %d %s rows, %d added, %d updated, %d already present, %.2fs",
        result.file,
        result.rows,
        result.kind,
        result.added,
        result.updated,
        result.skipped,
        time.perf_counter() - started,
    )
    return result


@rerun_on_conflict
def import_securities(engine: Engine, path: Path) -> ImportResult:
    started = time.perf_counter()
    problems: list[InputProblem] = []  # every problem of every row, reported together
    parsed = csv_files.parse_securities(path, collect=problems)
    first_line: dict[str, int] = {}
    for p in parsed:
        security = p.value
        problems += widths.too_wide(
            {
                "symbol": security.symbol,
                "name": security.name,
                "exchange": security.exchange,
                "sector": security.sector,
                "country": security.country,
            },
            widths.SECURITY,
            str(path),
            p.line,
        )
        if first_line.setdefault(security.symbol, p.line) != p.line:
            problems.append(
                InputProblem(
                    f"{security.symbol} is already listed at line {first_line[security.symbol]}",
                    str(path),
                    p.line,
                    "symbol",
                    security.symbol,
                    "one row per symbol",
                )
            )
    with UnitOfWork(engine) as uow:
        known = repos.securities_by_symbol(uow.session)
        problems += [
            InputProblem(
                f"{p.value.symbol} is already known in {known[p.value.symbol].currency}",
                str(path),
                p.line,
                "currency",
                p.value.currency,
                known[p.value.symbol].currency,
            )
            for p in parsed
            if p.value.symbol in known and known[p.value.symbol].currency != p.value.currency
        ]
        if problems:
            raise InputError(sorted(problems, key=lambda p: p.line or 0))
        new = [p.value for p in parsed if p.value.symbol not in known]
        changed = [
            p.value for p in parsed if p.value.symbol in known and known[p.value.symbol] != p.value
        ]
        repos.add_securities(uow.session, new)
        for security in changed:
            repos.update_security(uow.session, security)
        _audit_import(uow, "import_securities", "securities", path, len(new), len(changed))
        uow.commit()
    return _logged(
        ImportResult(
            str(path),
            "securities",
            len(parsed),
            len(new),
            len(changed),
            len(parsed) - len(new) - len(changed),
        ),
        started,
    )


@rerun_on_conflict
def import_prices(engine: Engine, path: Path, source: str | None = None) -> ImportResult:
    """Closing prices by symbol and date. Unknown symbols become securities in the row's
    currency; a price in another currency than its security's is refused."""
    started = time.perf_counter()
    problems: list[InputProblem] = []  # every problem of every row, reported together
    parsed = csv_files.parse_prices(path, collect=problems)
    with UnitOfWork(engine) as uow:
        known = repos.securities_by_symbol(uow.session)
        problems += widths.too_wide({"source": source}, widths.SOURCE) + [
            problem
            for item in parsed
            for problem in widths.too_wide(
                {"symbol": item.value.symbol}, widths.SECURITY, str(path), item.line
            )
        ]
        new: dict[str, Security] = {}
        for item in parsed:
            price = item.value
            security = known.get(price.symbol) or new.get(price.symbol)
            if security is None:
                new[price.symbol] = Security(
                    price.symbol, price.currency, price.symbol, SecurityType.EQUITY
                )
            elif security.currency != price.currency:
                problems.append(
                    InputProblem(
                        f"{price.symbol} is priced in {security.currency}",
                        str(path),
                        item.line,
                        "currency",
                        price.currency,
                        security.currency,
                    )
                )
        if problems:
            raise InputError(sorted(problems, key=lambda p: p.line or 0))
        repos.add_securities(uow.session, list(new.values()))
        added, updated = repos.upsert_prices(uow.session, [p.value for p in parsed], source)
        _audit_import(uow, "import_prices", "prices", path, added, updated, source)
        uow.commit()
    return _logged(
        ImportResult(
            str(path),
            "prices",
            len(parsed),
            added,
            updated,
            len(parsed) - added - updated,
            tuple(sorted(new)),
        ),
        started,
    )


@rerun_on_conflict
def import_fx(engine: Engine, path: Path, source: str | None = None) -> ImportResult:
    started = time.perf_counter()
    parsed = csv_files.parse_fx_rates(path)
    if problems := widths.too_wide({"source": source}, widths.SOURCE):
        raise InputError(problems)
    with UnitOfWork(engine) as uow:
        added, updated = repos.upsert_fx_rates(uow.session, [p.value for p in parsed], source)
        _audit_import(uow, "import_fx", "fx_rates", path, added, updated, source)
        uow.commit()
    return _logged(
        ImportResult(str(path), "fx", len(parsed), added, updated, len(parsed) - added - updated),
        started,
    )


def content_hash(date: dt.date, prices: tuple[PackPrice, ...], rates: tuple[FxRate, ...]) -> str:
    """SHA-256 of the pack's date and canonical contents: what the seal certifies (two dates
    with the same carried prices still have different seals). Numbers are normalised exactly
    (the default context would round them to 28 digits, so a change in a later digit would
    not restate the pack)."""
    digest = hashlib.sha256(f"D|{date.isoformat()}\n".encode())
    for p in sorted(prices, key=lambda p: p.symbol):
        price = p.price.normalize(EXACT)
        digest.update(f"P|{p.symbol}|{price}|{p.currency}|{p.price_date}\n".encode())
    for r in sorted(rates, key=lambda r: (r.base, r.quote)):
        rate = r.rate.normalize(EXACT)
        digest.update(f"F|{r.base}|{r.quote}|{rate}|{r.rate_date}\n".encode())
    return digest.hexdigest()


def _requirements(
    session: Session, date: dt.date, priced: set[str], fx: FxTable
) -> tuple[list[str], list[str]]:
    """Held securities without a price, and currency pairs without a rate, at the end of `date`.

    What each portfolio needs is what it holds that day (lots and non-zero cash) converted
    into its own base. A cheap over-approximation decides first: if every symbol ever traded
    is priced and every currency ever used converts into every base, nothing is missing.
    Only otherwise are the portfolios replayed to the date to see what they really hold.
    """
    traded = repos.symbols_traded_until(session, date)
    securities = repos.securities_by_symbol(session, traded)
    used = repos.currencies_used_until(session, date) | {s.currency for s in securities.values()}
    bases = {row.base_currency for row, _ in repos.list_portfolios(session)}
    if traded <= priced and all(fx.has(c, b) for c in used for b in bases):
        return [], []
    missing: set[str] = set()
    gaps: set[str] = set()
    for portfolio_id in repos.portfolio_ids_with_transactions_until(session, date):
        row = session.get(PortfolioRow, portfolio_id)
        assert row is not None
        state = ledger.replay(
            repos.list_transactions(session, portfolio_id, until=date),
            BookingMethod(row.booking_method),
        )
        held = {s for s, q in ledger.positions(state).items() if q != 0}
        missing |= held - priced
        currencies = {securities[s].currency for s in held} | {
            c.currency for c in state.cash if c.balance != 0
        }
        gaps |= {f"{c}/{row.base_currency}" for c in currencies if not fx.has(c, row.base_currency)}
    return sorted(missing), sorted(gaps)


@rerun_on_conflict
def create_pack(
    engine: Engine, date: dt.date, carry_forward: bool = False, from_bars: bool = False
) -> PackResult:
    """Build the pack for `date` from imported prices and FX and seal it, or record it FAILED
    with the reason. A date already sealed with the same contents returns that pack; with
    different contents the new pack is a restatement (`PP_<date>.2`, ...) that supersedes it;
    a failed attempt on a sealed date is reported in `failure` and leaves the seal alone.
    A date that has not begun anywhere on Earth yet is refused: a sealed pack cannot be
    removed, and a future one would be every later valuation's "newest" pack.

    With `from_bars` each security's price is also taken from its 1d bar (loaded or rolled
    up): the close of the bar dated `date`, or with `carry_forward` of its latest bar dated on
    or before it, in the security's currency, exactly as the vendor wrote it (the float's
    shortest repr, so 187.35 stays 187.35). Where a security has both, the newer of the bar
    and the imported price is taken, the bar on a tie."""
    today_somewhere = (utcnow() + dt.timedelta(hours=14)).date()  # UTC+14 is the earliest
    if date > today_somewhere:
        raise InputError(
            InputProblem(
                "is in the future", field="date", value=date.isoformat(), expected="a past date"
            )
        )
    with UnitOfWork(engine) as uow:
        session = uow.session
        prices = repos.latest_prices(session, date, carry_forward)
        if from_bars:
            prices = _with_bar_closes(prices, bar_repos.daily_closes(session, date, carry_forward))
        rates = repos.latest_fx_rates(session, date, carry_forward)
        priced = {p.symbol for p in prices}
        missing, gaps = _requirements(session, date, priced, FxTable(rates))
        problems: list[str] = []
        if missing:
            problems.append(
                f"no price on or before {date} for held securities: {', '.join(missing)}"
                if carry_forward
                else f"no price on {date} for held securities: {', '.join(missing)} "
                "(use carry-forward to allow the last price)"
            )
        if not prices and not rates:
            problems.append(f"no prices or FX rates imported for {date}")
        if gaps:
            when = "on or before" if carry_forward else "on"
            problems.append(f"no FX rate {when} {date} for {', '.join(gaps)}")

        existing = repos.packs_on(session, date)
        sealed = [r for r in existing if r.status == PackStatus.COMPLETE.value]
        prices_t = tuple(sorted(prices, key=lambda p: p.symbol))
        rates_t = tuple(sorted(rates, key=lambda r: (r.base, r.quote)))
        digest = content_hash(date, prices_t, rates_t)
        reason = "; ".join(problems) or None
        if sealed and (reason or sealed[-1].content_hash == digest):
            # The date stays with its sealed pack: unchanged contents, or a failed attempt
            # to restate it (which is reported, not stored).
            return PackResult(
                repos.load_pack(session, sealed[-1].pack_id), created=False, failure=reason
            )
        # A FAILED pack holds nothing and is replaced by the next attempt for its date; the
        # audit log keeps every attempt. Only sealed packs take revision numbers.
        repos.delete_failed_packs(session, date)
        revision = sealed[-1].revision + 1 if sealed else 1
        pack_id = f"PP_{date.isoformat()}" + (f".{revision}" if revision > 1 else "")
        supersedes = sealed[-1].pack_id if sealed else None
        if reason:
            pack = PricingPack(pack_id, date, PackStatus.FAILED, reason=reason)
        else:
            pack = PricingPack(
                pack_id,
                date,
                PackStatus.COMPLETE,
                content_hash=digest,
                supersedes=supersedes,
                sealed_at=utcnow(),
                prices=prices_t,
                fx_rates=rates_t,
            )
        repos.add_pack(session, pack, revision)
        if pack.status is PackStatus.COMPLETE:
            # Every portfolio's history from this date on was valued at other prices (or at
            # none, for a date filled in late): it is recomputed on next use.
            repos.invalidate_history(session, None, date)
        repos.audit(
            session,
            "create",
            "pricing_pack",
            pack_id,
            after={
                "status": pack.status.value,
                "content_hash": pack.content_hash,
                "supersedes": pack.supersedes,
                "reason": pack.reason,
            },
        )
        uow.commit()
        if pack.status is PackStatus.FAILED:
            log.info("pricing pack %s FAILED: %s", pack_id, pack.reason)  # the caller reports it
        else:
            log.info("sealed pricing pack %s (%s)", pack_id, digest)
        carried = tuple(p.symbol for p in prices_t if p.price_date != date)
        return PackResult(pack, created=True, carried=carried)


def _with_bar_closes(
    prices: list[PackPrice], closes: list[tuple[str, dt.date, float, str]]
) -> list[PackPrice]:
    """Imported prices and 1d bar closes, one per symbol: the newer, the bar on a tie."""
    chosen = {p.symbol: p for p in prices}
    for symbol, day, close, currency in closes:
        held = chosen.get(symbol)
        if held is None or held.price_date <= day:
            chosen[symbol] = PackPrice(symbol, Decimal(repr(close)), currency, day)
    return list(chosen.values())


def list_packs(engine: Engine) -> list[PackSummary]:
    with UnitOfWork(engine) as uow:
        return [
            PackSummary(
                p.pack_id,
                p.date,
                p.status.value,
                n_prices,
                n_fx,
                p.supersedes,
                p.content_hash,
                p.reason,
            )
            for p, n_prices, n_fx in repos.list_packs(uow.session)
        ]


def show_pack(engine: Engine, pack_id: str) -> PricingPack:
    with UnitOfWork(engine) as uow:
        return repos.load_pack(uow.session, pack_id)


def replace_pack_price(engine: Engine, pack_id: str, price: PackPrice) -> None:
    """Change one price inside a pack that is not sealed yet (a sealed pack refuses)."""
    with UnitOfWork(engine) as uow:
        repos.ensure_pack_open(uow.session, pack_id)
        repos.set_pack_price(uow.session, pack_id, price)
        uow.commit()

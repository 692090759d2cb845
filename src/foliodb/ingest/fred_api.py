"""The FRED web API (`/series`, `/series/observations`, JSON) as `fred.SeriesData`, with
retries and the API key kept out of every log and message (docs/macro.md)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Final

import httpx

from foliodb.errors import FoliodbError, InputError, InputProblem
from foliodb.ingest import fred

log = logging.getLogger(__name__)


class FredUnavailableError(FoliodbError):
    """FRED did not answer usefully: network down, timeouts or 429/5xx past every retry, or
    an answer that is not what its API documents."""


class _ApiKeyTransport(httpx.BaseTransport):
    """Adds the API key to each request on its way out, so the key is in no request httpx
    logs, no exception message and no response.request; only the wire sees it."""

    def __init__(self, api_key: str, inner: httpx.BaseTransport) -> None:
        self._api_key = api_key
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        keyed = httpx.Request(
            request.method,
            request.url.copy_merge_params({"api_key": self._api_key}),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self._inner.handle_request(keyed)

    def close(self) -> None:
        self._inner.close()


class FredClient:
    """Series metadata and observations from the FRED API (`/series`,
    `/series/observations`, JSON). Timeouts, connection failures, 429 and 5xx are retried
    `attempts` times in all, waiting backoff, 2x backoff, 4x... (or the server's Retry-After),
    each wait at most `max_wait` seconds; a 400 is bad input and is not retried."""

    PAGE: Final = 100_000  # FRED's largest page

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        timeout: float = 20.0,
        attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise InputError(
                InputProblem(
                    "is not set",
                    field="FOLIODB_FRED_API_KEY",
                    expected="a FRED API key (free: https://fred.stlouisfed.org/docs/api/api_key.html)",
                )
            )
        self.base_url = base_url.rstrip("/")
        self.attempts, self.backoff, self.max_wait = max(1, attempts), backoff, max_wait
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            timeout=timeout,
            transport=_ApiKeyTransport(api_key, transport or httpx.HTTPTransport()),
            headers={"User-Agent": "foliodb"},
        )

    def __enter__(self) -> FredClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def series_info(self, code: str) -> fred.SeriesInfo:
        """Title, frequency, units and seasonal adjustment of a series."""
        payload = self._get("series", {"series_id": code}, code)
        try:
            found = payload["seriess"][0]
            return fred.SeriesInfo(
                code=code,
                title=str(found["title"]),
                frequency=fred.parse_frequency(
                    str(found.get("frequency_short") or found["frequency"])
                ),
                units=str(found["units"]),
                seasonal_adjustment=found.get("seasonal_adjustment_short"),
                source="FRED",
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise self._unexpected("series", code, exc) from exc

    def fetch(
        self,
        code: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        vintages: bool = False,
    ) -> fred.SeriesData:
        """A series' metadata and observations dated `start` to `end`: every vintage with
        `vintages`, else today's values, known since FRED's today."""
        info = self.series_info(code)
        params: dict[str, str] = {"series_id": code, "limit": str(self.PAGE)}
        if start is not None:
            params["observation_start"] = start.isoformat()
        if end is not None:
            params["observation_end"] = end.isoformat()
        if vintages:
            params["realtime_start"] = fred.FIRST_REALTIME.isoformat()
            params["realtime_end"] = fred.OPEN_END.isoformat()
        rows: list[dict[str, Any]] = []
        while True:
            payload = self._get("series/observations", {**params, "offset": str(len(rows))}, code)
            page = payload.get("observations")
            if not isinstance(page, list):
                raise self._unexpected("series/observations", code, KeyError("observations"))
            rows += page
            if not page or len(rows) >= int(payload.get("count", 0)):
                break
        try:
            if not vintages:
                known = dt.date.fromisoformat(str(payload["realtime_start"]))
                plain = tuple(
                    fred.Vintage(dt.date.fromisoformat(r["date"]), fred.parse_number(r["value"]))
                    for r in rows
                )
                return fred.SeriesData(info, plain, False, f"FRED {code}", known)
            return fred.SeriesData(info, _vintages_of(code, rows), True, f"FRED {code}")
        except (KeyError, TypeError, ValueError) as exc:
            raise self._unexpected("series/observations", code, exc) from exc

    def _get(self, path: str, params: dict[str, str], code: str) -> dict[str, Any]:
        last = ""
        for attempt in range(1, self.attempts + 1):
            wait = self.backoff * 2 ** (attempt - 1)
            try:
                response = self._http.get(path, params={**params, "file_type": "json"})
            except httpx.TimeoutException:
                last = "timed out"
            except httpx.TransportError as exc:
                last = f"cannot connect ({exc.__class__.__name__}: {exc})"
            else:
                if response.status_code == 200:
                    try:
                        payload = response.json()
                    except ValueError as exc:
                        raise self._unexpected(path, code, exc) from exc
                    if not isinstance(payload, dict):
                        raise self._unexpected(path, code, TypeError(type(payload).__name__))
                    return payload
                if response.status_code == 429 or response.status_code >= 500:
                    last = f"HTTP {response.status_code}"
                    retry_after = response.headers.get("Retry-After", "")
                    if retry_after.isdigit():
                        wait = float(retry_after)
                else:
                    raise self._refused(response, path, code)
            if attempt < self.attempts:
                wait = min(wait, self.max_wait)
                log.warning(
                    "FRED %s %s: %s; retrying in %.1fs (attempt %d of %d)",
                    path,
                    code,
                    last,
                    wait,
                    attempt,
                    self.attempts,
                )
                self._sleep(wait)
        raise FredUnavailableError(
            f"FRED ({self.base_url}/{path}) did not answer for {code} after "
            f"{self.attempts} attempts: {last}"
        )

    def _refused(self, response: httpx.Response, path: str, code: str) -> FoliodbError:
        try:
            message = str(response.json().get("error_message", "")).strip()
        except (ValueError, AttributeError):
            message = ""
        message = message or response.reason_phrase
        status = response.status_code
        if "api_key" in message.lower() or status in (401, 403):
            return InputError(
                InputProblem(
                    f"FRED refused the API key (HTTP {status}): {message}",
                    field="FOLIODB_FRED_API_KEY",
                    expected="a registered FRED API key",
                )
            )
        if status == 400:
            return InputError(
                InputProblem(
                    f"FRED refused the request (HTTP 400): {message}",
                    field="code",
                    value=code,
                    expected="a FRED series id such as GDPC1, and valid dates",
                )
            )
        return FredUnavailableError(
            f"FRED ({self.base_url}/{path}) answered HTTP {status} for {code}: {message} "
            f"(is FOLIODB_FRED_URL right?)"
        )

    def _unexpected(self, path: str, code: str, exc: Exception) -> FredUnavailableError:
        return FredUnavailableError(
            f"FRED ({self.base_url}/{path}) answered for {code} with something its API does "
            f"not document ({exc.__class__.__name__}: {exc})"
        )


def _vintages_of(code: str, rows: Sequence[dict[str, Any]]) -> tuple[fred.Vintage, ...]:
    """Observations fetched over every real-time period, as non-overlapping periods."""
    by_date: dict[dt.date, list[fred.Vintage]] = defaultdict(list)
    for r in rows:
        day = dt.date.fromisoformat(r["date"])
        start = dt.date.fromisoformat(r["realtime_start"])
        by_date[day].append(
            fred.Vintage(
                day, fred.parse_number(r["value"]), start, fred.parse_end(r["realtime_end"])
            )
        )
    out: list[fred.Vintage] = []
    for day in sorted(by_date):
        periods = sorted(by_date[day], key=lambda v: v.realtime_start or day)
        for a, b in itertools.pairwise(periods):
            assert b.realtime_start is not None
            if a.realtime_end is None or a.realtime_end > b.realtime_start:
                raise ValueError(f"{code} {day}: real-time periods overlap")
        out += periods
    return tuple(out)

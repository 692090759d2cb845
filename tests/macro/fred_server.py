"""A local stand-in for the FRED API: an http.server on 127.0.0.1 (port 0) in a thread,
answering each (path, series_id) from a queue of canned responses, and recording requests."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Canned:
    status: int
    body: Any  # JSON-able, or str sent as it is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeFred:
    url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _queues: dict[tuple[str, str], list[Canned]] = field(default_factory=lambda: defaultdict(list))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, series_id: str, *responses: Canned) -> None:
        """Queue responses for /fred/<path>?series_id=...; the last one keeps being served."""
        self._queues[(path, series_id)].extend(responses)

    def next(self, path: str, series_id: str) -> Canned:
        with self._lock:
            queue = self._queues.get((path, series_id))
            if not queue:
                return Canned(404, {"error_code": 404, "error_message": "Not Found"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def calls(self, path: str) -> list[dict[str, str]]:
        return [params for p, params in self.requests if p == path]


def _handler(fake: FakeFred) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path.removeprefix("/fred/")
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            with fake._lock:
                fake.requests.append((path, params))
            canned = fake.next(path, params.get("series_id", ""))
            if canned.delay:
                time.sleep(canned.delay)
            body = canned.body if isinstance(canned.body, str) else json.dumps(canned.body)
            data = body.encode()
            try:
                self.send_response(canned.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def fake_fred() -> Iterator[FakeFred]:
    fake = FakeFred()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/fred"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def series_json(code: str, title: str, frequency: str, units: str) -> dict[str, Any]:
    """FRED's /fred/series answer (fields as its documentation shows them)."""
    return {
        "realtime_start": "2024-04-01",
        "realtime_end": "2024-04-01",
        "seriess": [
            {
                "id": code,
                "realtime_start": "2024-04-01",
                "realtime_end": "2024-04-01",
                "title": title,
                "observation_start": "1947-01-01",
                "observation_end": "2023-10-01",
                "frequency": {"Q": "Quarterly", "M": "Monthly", "D": "Daily"}[frequency],
                "frequency_short": frequency,
                "units": units,
                "units_short": units,
                "seasonal_adjustment": "Seasonally Adjusted Annual Rate",
                "seasonal_adjustment_short": "SAAR",
                "last_updated": "2024-03-28 07:56:04-05",
                "popularity": 86,
                "notes": "BEA Account Code: A191RX",
            }
        ],
    }


def observations_json(
    rows: list[tuple[str, str, str, str]],
    realtime: tuple[str, str] = ("2024-04-01", "2024-04-01"),
    count: int | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """FRED's /fred/series/observations answer; rows are (realtime_start, realtime_end,
    date, value)."""
    return {
        "realtime_start": realtime[0],
        "realtime_end": realtime[1],
        "observation_start": "1600-01-01",
        "observation_end": "9999-12-31",
        "units": "lin",
        "output_type": 1,
        "file_type": "json",
        "order_by": "observation_date",
        "sort_order": "asc",
        "count": len(rows) if count is None else count,
        "offset": offset,
        "limit": 100000,
        "observations": [
            {"realtime_start": s, "realtime_end": e, "date": d, "value": v} for s, e, d, v in rows
        ],
    }

"""Request body size limits: a body past its limit is refused with 413 before it is read
whole (by its Content-Length, or as it streams in without one)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foliodb.server.problems import problem

#: Uploads (multipart forms: a transactions CSV) and everything else (JSON, forms).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_BODY_BYTES = 1024 * 1024


class PayloadTooLargeError(HTTPException):
    """Raised while the body streams in; answered 413 by the problem handlers."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: 413 for a body larger than its limit (multipart: MAX_UPLOAD_BYTES,
    others: MAX_BODY_BYTES)."""

    def __init__(
        self, app: ASGIApp, max_body: int = MAX_BODY_BYTES, max_upload: int = MAX_UPLOAD_BYTES
    ) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").lower().startswith("multipart/form-data")
        limit = self.max_upload if multipart else self.max_body
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem(413, "payload_too_large", PayloadTooLargeError(limit).detail)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLargeError(limit)
            return message

        await self.app(scope, limited, send)

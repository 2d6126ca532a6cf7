"""Headers every response carries, and redirects that never trust the Host header.

- `X-Content-Type-Options: nosniff`, `Cache-Control: no-store` (answers hold patient work
  lists: no shared cache keeps them), `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`.
- A path with a trailing slash is redirected (307) to the same path without it, by a
  *relative* `Location`: the redirect Starlette builds from the request's Host header would
  send a client wherever a forged Host said.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Only plain paths are redirected; anything else (a backslash, "//host") just gets its 404.
_PLAIN_PATH = re.compile(r"^(/[A-Za-z0-9_.:\-]+)+/+$")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


class RelativeSlashRedirect:
    """`/v1/studies/` -> 307 to `/v1/studies` (query kept), relative to the request path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not _PLAIN_PATH.match(path):
            await self.app(scope, receive, send)
            return
        target = path.rstrip("/")
        query = scope.get("query_string", b"")
        location = target.encode("utf-8", "surrogateescape") + (b"?" + query if query else b"")
        await send(
            {
                "type": "http.response.start",
                "status": 307,
                "headers": [(b"location", location), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

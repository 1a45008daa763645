"""What every request to `triage serve` passes before any page sees it, and what every
answer carries.

- Only GET and HEAD: the server reads, and nothing else (405 otherwise).
- The Host header must name the server as bound, or localhost: a page elsewhere that gets
  its own name pointed at 127.0.0.1 (DNS rebinding) is refused (421 otherwise).
- With a token (required off localhost), every request carries it: `?token=` once, which
  sets an HttpOnly, SameSite=Strict cookie and redirects to the same page without it (no
  token left in history, logs or a copied link), then the cookie; or an
  `Authorization: Bearer` header from scripts (401 otherwise).
- Every answer: a strict Content-Security-Policy (this server's own style sheet and script,
  nothing inline, nothing remote, no frames), no sniffing, no referrer, no caching (pages
  hold customer traffic).
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "triage_token"
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-frame-options": "DENY",
}


def host_name(header: str) -> str:
    """The name in a Host header, without its port ('[::1]:8765' -> '::1')."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    def __init__(self, app: ASGIApp, token: str | None, allowed_hosts: set[str]) -> None:
        self.app = app
        self.token = token
        self.allowed = {h.lower() for h in allowed_hosts} | LOCAL_NAMES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in have
                ]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        refusal = self._refusal(scope, headers)
        if refusal:
            status, line, extra = refusal
            await _plain(send_with_headers, status, line, extra)
            return
        given = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if self.token and "token" in given:
            # the token from a link becomes a cookie; the page is asked for again without it
            rest = urlencode([(k, v) for k, v in given.items() if k != "token"])
            location = scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            await _plain(
                send_with_headers,
                303,
                "signed in",
                [("location", location), ("set-cookie", cookie)],
            )
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope, headers: dict) -> tuple[int, str, list] | None:
        if scope["method"] not in ("GET", "HEAD"):
            return 405, "this server only reads: use GET", [("allow", "GET, HEAD")]
        if host_name(headers.get("host", "")) not in self.allowed:
            return 421, "this server answers only to its own name, or localhost", []
        if self.token and not self._carries_token(scope, headers):
            return (
                401,
                "this server needs its token: open the link with ?token=... that "
                "'triage serve' printed, or send 'Authorization: Bearer TOKEN'",
                [("www-authenticate", "Bearer")],
            )
        return None

    def _carries_token(self, scope: Scope, headers: dict) -> bool:
        assert self.token is not None
        candidates = []
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            candidates.append(auth[7:].strip())
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is no token
            cookie = SimpleCookie()
        if COOKIE in cookie:
            candidates.append(cookie[COOKIE].value)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query:
            candidates.append(query["token"])
        return any(hmac.compare_digest(c.encode(), self.token.encode()) for c in candidates)


async def _plain(send: Send, status: int, line: str, headers: list) -> None:
    body = (line + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *[(k.encode(), v.encode()) for k, v in headers],
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

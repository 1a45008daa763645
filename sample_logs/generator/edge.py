"""The docs site's edge server (shape E): nginx in front of docs.scaling.example, the public
developer documentation, writing combined text with X-Forwarded-For and $request_time.

Its clock is Asia/Kolkata, so every time carries +0530. Almost everything succeeds; the
failures are a few broken links and the junk every public server sees (a TLS handshake sent
to the plain-HTTP port, a connection that never sent a request).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from urllib.parse import quote

from .clock import MS_DAY, MS_HOUR, Calendar, clf_local
from .ids import Ids
from .shapes import Hit, Line

KOLKATA_MINUTES = 5 * 60 + 30
HITS_PER_DAY = 28
LOAD_BALANCERS = ("10.0.0.2", "10.0.0.3")  # nginx's $remote_addr for proxied traffic
SITE = "https://docs.scaling.example"

# (path, status, bytes, share). /docs and /docs/api/errors/ redirect to their canonical form.
PAGES = (
    ("/docs/", 200, 18_412, 14),
    ("/docs/getting-started", 200, 24_107, 10),
    ("/docs/authentication", 200, 21_660, 8),
    ("/docs/api/incidents", 200, 40_388, 8),
    ("/docs/api/errors", 200, 31_902, 6),
    ("/docs/api/errors#invalid_api_key", 200, 31_902, 3),
    ("/docs/api/errors#rate_limited", 200, 31_902, 2),
    ("/docs/api/pagination", 200, 12_044, 3),
    ("/docs/terraform", 200, 19_873, 4),
    ("/docs/changelog", 200, 27_519, 3),
    ("/assets/docs.4f2a9c1e.css", 200, 48_311, 10),
    ("/assets/docs.8b7d3e02.js", 200, 131_208, 10),
    ("/assets/logo.svg", 200, 3_412, 5),
    ("/favicon.ico", 200, 1_150, 6),
    ("/docs", 301, 169, 2),
    ("/docs/api/errors/", 301, 169, 1),
)
CACHEABLE = ("/assets/", "/favicon.ico")  # a returning browser revalidates these: 304
BROKEN_LINKS = ("/docs/api/v0/incidents", "/docs/guides/webhooks", "/docs/api/erorrs")
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
)
CURL = "curl/8.5.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_IP = "66.249.66.1"  # Googlebot's own range: it connects directly, no XFF
# What nginx writes when a client speaks TLS to its plain-HTTP port: the ClientHello's first
# bytes, escaped as \xHH text (so not a request line at all).
TLS_HANDSHAKE = r"\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03"
# A user pasted a whole error response into the docs search: over 1 KB of query string.
PASTED_ERROR = (
    '{"type":"invalid_request_error","code":"invalid_status_transition","message":'
    '"Cannot move incident from \\"triggered\\" to \\"resolved\\": allowed next states are '
    '\\"acknowledged\\" and \\"escalated\\"","statusCode":400,"requestId":"'
)


@dataclass(frozen=True)
class Visit:
    """One line of the edge log: nginx's variables, as they will be written."""

    ts: int
    remote: str
    request: str
    status: int
    size: str
    referer: str
    agent: str
    forwarded: str
    seconds: str
    hit: Hit

    def line(self) -> Line:
        text = (
            f'{self.remote} - - [{clf_local(self.ts, KOLKATA_MINUTES)}] "{self.request}" '
            f'{self.status} {self.size} "{self.referer}" "{self.agent}" "{self.forwarded}" '
            f"{self.seconds}"
        )
        return Line(text.encode(), "request")


def edge_log(rng: random.Random, ids: Ids, cal: Calendar) -> tuple[list[Line], list[Hit]]:
    """The edge server's lines in time order, and the requests they record."""
    visits = [
        _page_view(rng, ids, cal.start_ms + day * MS_DAY)
        for day in range(cal.days)
        for _ in range(HITS_PER_DAY + rng.randint(-6, 6))
    ]
    # one broken link is followed twice
    visits += [_visit(rng, ids, _any_time(rng, cal), p, 404, 153) for p in BROKEN_LINKS]
    visits.append(_visit(rng, ids, _any_time(rng, cal), BROKEN_LINKS[0], 404, 153))
    visits.append(_search(rng, ids, _any_time(rng, cal)))
    visits += _scanner(rng, _any_time(rng, cal))
    visits.sort(key=lambda v: v.ts)
    return [v.line() for v in visits], [v.hit for v in visits]


def _any_time(rng: random.Random, cal: Calendar) -> int:
    return cal.start_ms + rng.randrange(cal.end_ms - cal.start_ms)


def _page_view(rng: random.Random, ids: Ids, day_ms: int) -> Visit:
    # readers are worldwide; a little busier in the European and American daytime
    hour = rng.choices(range(24), [2] * 6 + [3] * 16 + [2] * 2)[0]
    ts = day_ms + hour * MS_HOUR + rng.randrange(MS_HOUR)
    path, status, size, _ = rng.choices(PAGES, [p[3] for p in PAGES])[0]
    if path.startswith(CACHEABLE) and rng.random() < 0.4:
        status, size = 304, 0  # a returning browser revalidates its cached copy
    return _visit(rng, ids, ts, path, status, size)


def _visit(rng: random.Random, ids: Ids, ts: int, path: str, status: int, size: int) -> Visit:
    """A reader's request: a browser or curl through the load balancer, or Googlebot."""
    who = rng.random()
    if who < 0.12:
        remote, forwarded, agent = GOOGLEBOT_IP, "-", GOOGLEBOT
    else:
        client = ids.client_ip()
        # a proxy in front of the client adds itself to the chain the balancer forwards
        forwarded = f"{client}, {LOAD_BALANCERS[0]}" if rng.random() < 0.3 else client
        remote = rng.choice(LOAD_BALANCERS)
        agent = CURL if who < 0.22 else rng.choice(BROWSERS)
    browser = agent in BROWSERS
    referer = f"{SITE}/docs/" if browser and rng.random() < 0.6 else "-"
    return Visit(
        ts,
        remote,
        f"GET {path} HTTP/{'2.0' if browser else '1.1'}",
        status,
        str(size),
        referer,
        agent,
        forwarded,
        f"{rng.randint(0, 40) / 1000:.3f}",
        Hit("GET", path.split("?", 1)[0].split("#", 1)[0], status),
    )


def _search(rng: random.Random, ids: Ids, ts: int) -> Visit:
    pasted = (PASTED_ERROR + ids.uuid4() + '"}') * 3  # pasted three times over
    return _visit(rng, ids, ts, f"/docs/search?q={quote(pasted, safe='')}&page=1", 200, 9_215)


def _scanner(rng: random.Random, ts: int) -> list[Visit]:
    """A scanner speaks TLS to the plain port (400), then opens a connection and sends
    nothing until nginx gives up on it (408, after client_header_timeout's 60 s)."""
    ip = f"198.51.100.{rng.randint(2, 254)}"
    tls = f"0.{rng.randint(1, 90):03d}"
    idle = f"60.{rng.randint(0, 3):03d}"
    return [
        Visit(ts, ip, TLS_HANDSHAKE, 400, "-", "-", "-", "-", tls, Hit(None, None, 400)),
        Visit(ts + 61_000, ip, "-", 408, "-", "-", "-", "-", idle, Hit(None, None, 408)),
    ]

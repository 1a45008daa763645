"""`triage serve`: the support desk in a browser, on the same library as the command line.

Each page reads its parameters, calls the library function its command calls (lookup_ids,
group_failures, check_contract, weekly, summarize, describe) on a store borrowed for that
request only (web_store.StoreGate), and renders a template from templates/ through the one
Jinja environment, masked and escaped as everywhere. Nothing here writes: every route is GET.
Safety (host, token, headers) is web_safety's; this module only answers.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from triage.exceptions import StoreBusy, StoreError, TriageError, first_line
from triage.redact import mask
from triage.render import render, render_incident, render_lookup, render_report
from triage.web_cache import AnswerCache
from triage.web_safety import Guard
from triage.web_store import StoreGate

MAX_IDS = 20  # ids looked up from one pasted text
READERS = 4
STATIC = {"triage.css": "text/css; charset=utf-8", "serve.js": "text/javascript; charset=utf-8"}


class BadRequest(TriageError):
    """A parameter the page cannot use: a 400 page with one line."""


def create_app(
    db: Path, *, token: str | None = None, allowed_hosts: set[str] | None = None
) -> Starlette:
    gate = StoreGate(db)
    pages = Pages(gate)
    routes = [
        Route("/", pages.home),
        Route("/lookup", pages.lookup),
        Route("/requests/{request_id:path}", pages.request),
        Route("/errors", pages.errors),
        Route("/contract", pages.contract),
        Route("/reports/weekly", pages.latest_week),
        Route("/reports/weekly/{week}", pages.weekly),
        Route("/incidents", pages.incidents),
        Route("/sources", pages.sources),
        Route("/api/lookup/{request_id:path}", pages.api_lookup),
        Route("/api/errors", pages.api_errors),
        Route("/healthz", pages.healthz),
        Route("/static/{name}", static),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=token, allowed_hosts=allowed_hosts or set())],
        # expected failures (TriageError, HTTP's) are pages; anything else is a bug: a page
        # too, and its traceback in the server's log
        exception_handlers={
            TriageError: problem_page,
            HTTPException: problem_page,
            Exception: problem_page,
        },
    )
    return app


def kept(handler: Callable) -> Callable:
    """A page that is a function of the store and its address alone: its answer is kept
    until the store changes (web_cache). A kept answer is sent from the event loop at once;
    only a page to compute takes one of the few threads that read the store, so a page
    already computed never waits behind pages being computed."""

    @functools.wraps(handler)
    async def answer(self: Pages, request: Request) -> Response:
        key = self.cache.key(f"{request.url.path}?{request.url.query}")
        found = self.cache.get(key)
        if found is not None:
            body, media_type, status = found
            return Response(body, status, media_type=media_type)
        response = await anyio.to_thread.run_sync(handler, self, request, limiter=self.readers)
        if response.status_code in (200, 404) and response.media_type:
            self.cache.put(key, bytes(response.body), response.media_type, response.status_code)
        return response

    return answer


class Pages:
    def __init__(self, gate: StoreGate) -> None:
        self.gate = gate
        self.cache = AnswerCache(gate.path)
        # pages computed at once: a few more than the cores (each reads with one thread),
        # so that the rest queue in order instead of all slowing down together
        self.readers = anyio.CapacityLimiter(READERS)

    # --- pages ------------------------------------------------------------------------

    @kept
    def home(self, request: Request) -> Response:
        from triage.glance import glance

        tz = _zone(request)
        with self.gate.store() as store:
            facts = glance(store)
        return _page("serve_home.html.j2", tz=tz, glance=facts)

    @kept
    def lookup(self, request: Request) -> Response:
        from triage.lookup import ids_in_argument, ids_in_text

        text = request.query_params.get("q", "")
        if not text.strip():
            return RedirectResponse("/", status_code=303)
        ids = ids_in_text(text) or (ids_in_argument(text) if len(text.split()) == 1 else [])
        if not ids:
            raise BadRequest(
                "no request id found in this text; paste the customer's message or a request id"
            )
        return self._lookup_page(request, ids[:MAX_IDS], text, dropped=max(0, len(ids) - MAX_IDS))

    @kept
    def request(self, request: Request) -> Response:
        from triage.lookup import ids_in_argument

        ids = ids_in_argument(request.path_params["request_id"])
        if len(ids) != 1:
            raise BadRequest("this link names no single request id; paste the id on the home page")
        return self._lookup_page(request, ids, ids[0])

    def _lookup_page(self, request: Request, ids: list[str], text: str, dropped: int = 0):
        from triage.lookup import lookup_ids

        tz = _zone(request)
        window = _duration(request, "window", "1h")
        with self.gate.store() as store:
            results = lookup_ids(store, ids, window=window)
        return _page(
            "serve_lookup.html.j2",
            tz=tz,
            q=text,
            dropped=dropped,
            results=[r.as_dict() for r in results],
            summary=render_lookup(results, "md", tz, "summary"),
            reply=render_lookup(results, "text", tz, "reply"),
        )

    @kept
    def errors(self, request: Request) -> Response:
        form, result = self._failures(request)
        return _page(
            "serve_rows.html.j2",
            title="Failures",
            action="/errors",
            form=form,
            rows=result.rows,
            notes=result.notes,
            api=f"/api/errors?{urlencode({k: v for k, v in form.items() if v})}",
        )

    @kept
    def api_errors(self, request: Request) -> Response:
        from triage.formats import format_json
        from triage.redact import redacted

        _, result = self._failures(request)
        return Response(format_json(redacted(result.rows)), media_type="application/json")

    def _failures(self, request: Request):
        from triage.failures import DEFAULT_BY, Filters, group_failures, parse_by, parse_status

        q = request.query_params
        form = {
            k: q.get(k, "").strip()
            for k in ("by", "since", "until", "tz", "org", "key", "route", "method")
            + ("status", "type", "code")
        }
        form["by"] = form["by"] or ",".join(DEFAULT_BY)
        tz = _zone(request)
        form["tz"] = tz
        since, until = _range(request, tz)
        by = _parsed(parse_by, form["by"], "by")
        status = _parsed(parse_status, form["status"], "status") if form["status"] else None
        filters = Filters(
            since,
            until,
            form["org"] or None,
            form["route"] or None,
            status,
            form["type"] or None,
            form["code"] or None,
            tz=tz,
            method=form["method"] or None,
            key=form["key"] or None,
        )
        limit = _number(request, "limit", 50, 1, 1000)
        with self.gate.store() as store:
            result = group_failures(store, by, filters, examples=3, limit=limit)
        return form, result

    @kept
    def contract(self, request: Request) -> Response:
        from triage.contract import check_contract

        tz = _zone(request)
        since, until = _range(request, tz)
        with self.gate.store() as store:
            rows = check_contract(store, since=since, until=until, tz=tz, examples=3)
        form = _window_form(request, tz)
        notes = [] if rows else ["no contract violations in the chosen range"]
        return _page(
            "serve_rows.html.j2",
            title="Contract violations",
            action="/contract",
            form=form,
            rows=rows,
            notes=notes,
            api=None,
        )

    def latest_week(self, request: Request) -> Response:
        from triage.report import last_complete_week

        tz = _zone(request)
        with self.gate.store() as store:
            year, week = last_complete_week(store, tz)
        where = f"/reports/weekly/{year}-W{week:02d}?{urlencode({'tz': tz})}"
        return RedirectResponse(where, status_code=303)

    @kept
    def weekly(self, request: Request) -> Response:
        from triage.report import weekly
        from triage.timespec import parse_week

        tz = _zone(request)
        year, week = _parsed(parse_week, request.path_params["week"], "week")
        with self.gate.store() as store:
            report = weekly(store, (year, week), tz)
        monday = dt.date.fromisocalendar(year, week, 1)
        weeks = {
            name: "{}-W{:02d}".format(*(monday + dt.timedelta(days=days)).isocalendar()[:2])
            for name, days in (("previous", -7), ("next", 7))
        }
        text = render_report(report, "html", served={"weeks": weeks, "tz": tz})
        return HTMLResponse(text)

    @kept
    def incidents(self, request: Request) -> Response:
        from triage.incident import BURST_RULE, NoBurst, summarize

        tz = _zone(request)
        since, until = _range(request, tz)
        auto = not (since and until) or request.query_params.get("auto") == "1"
        form = _window_form(request, tz)
        try:
            with self.gate.store() as store:
                found = summarize(store, since, until, auto=auto)
        except NoBurst:
            return _page("serve_no_burst.html.j2", form=form, rule=BURST_RULE, tz=tz)
        return HTMLResponse(render_incident(found, "html", tz, served=form))

    @kept
    def sources(self, request: Request) -> Response:
        from triage.ingest import PARSING_RULES
        from triage.store import describe

        with self.gate.store() as store:
            facts = describe(store, parsing_rules=PARSING_RULES)
        return _page("serve_sources.html.j2", tz=_zone(request), facts=facts)

    # --- JSON -------------------------------------------------------------------------

    @kept
    def api_lookup(self, request: Request) -> Response:
        from triage.lookup import ids_in_argument, lookup_ids

        ids = ids_in_argument(request.path_params["request_id"])
        if len(ids) != 1:
            raise BadRequest("give one request id: /api/lookup/<id>")
        with self.gate.store() as store:
            results = lookup_ids(store, ids, window=_duration(request, "window", "1h"))
        return Response(
            render_lookup(results, "json", _zone(request)),
            status_code=200 if results[0].found else 404,
            media_type="application/json",
        )

    def healthz(self, request: Request) -> Response:
        from triage.store import writer_waiting

        path = self.gate.path
        return JSONResponse(
            {
                "status": "ok",
                "store_exists": path.is_file(),
                "ingest_waiting": writer_waiting(path),
                "connections_open": self.gate.open_connections,
                "answers_kept": self.cache.stats(),
            }
        )


def static(request: Request) -> Response:
    """The style sheet and the one script, from the package (a name, never a path)."""
    name = request.path_params["name"]
    if name not in STATIC:
        raise HTTPException(404)
    return Response(
        _static(name), media_type=STATIC[name], headers={"Cache-Control": "max-age=300"}
    )


@functools.cache
def _static(name: str) -> bytes:
    return resources.files("triage.templates").joinpath(name).read_bytes()


# --- parameters -----------------------------------------------------------------------


def _parsed(parse: Callable, text: str, name: str):
    try:
        return parse(text)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from None


def _zone(request: Request) -> str:
    from triage.timespec import resolve_zone

    text = request.query_params.get("tz", "").strip() or "UTC"
    name, _ = _parsed(resolve_zone, text, "tz")
    return name


def _range(request: Request, tz: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    from triage.timespec import parse_time

    since_text = request.query_params.get("since", "").strip()
    until_text = request.query_params.get("until", "").strip()
    since = _parsed(lambda t: parse_time(t, tz), since_text, "since") if since_text else None
    until = _parsed(lambda t: parse_time(t, tz), until_text, "until") if until_text else None
    if since and until and until <= since:
        raise BadRequest(f"until {until_text} is not after since {since_text}")
    return since, until


def _window_form(request: Request, tz: str) -> dict:
    """A page's time window as its form shows it again: as typed, and the zone read."""
    q = request.query_params
    return {"since": q.get("since", ""), "until": q.get("until", ""), "tz": tz}


def _duration(request: Request, name: str, default: str) -> dt.timedelta:
    from triage.timespec import parse_duration

    return _parsed(parse_duration, request.query_params.get(name, "") or default, name)


def _number(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadRequest(f"{name}: give a whole number from {low} to {high}")
    return int(text)


# --- answers --------------------------------------------------------------------------


def _page(template: str, code: int = 200, headers: dict | None = None, **context) -> Response:
    return HTMLResponse(render(template, served=True, **context), code, headers=headers)


async def problem_page(request: Request, exc: Exception) -> Response:
    """Every failure as a page with one line (JSON under /api/), never a traceback."""
    if isinstance(exc, HTTPException):
        status, line = exc.status_code, _HTTP_LINES.get(exc.status_code, "that did not work")
    elif isinstance(exc, StoreBusy | StoreError):  # busy, or no store: nothing to read yet
        status, line = 503, str(exc)
    elif isinstance(exc, TriageError):
        status, line = 400, str(exc)
    else:
        status = 500
        line = (
            f"triage failed unexpectedly ({type(exc).__name__}: {first_line(exc)}); this is a "
            "bug: run the same request with triage's command line and TRIAGE_DEBUG=1, and report it"
        )
    line = mask(line) or ""
    headers = {"Retry-After": "5", "Refresh": "5"} if isinstance(exc, StoreBusy) else None
    if request.url.path.startswith("/api/"):
        return Response(
            json.dumps({"error": line}) + "\n", status, headers, media_type="application/json"
        )
    busy = isinstance(exc, StoreBusy)
    return _page("serve_problem.html.j2", status, headers, status=status, line=line, busy=busy)


_HTTP_LINES = {
    404: "no such page; start from the home page",
    405: "this server only reads: use GET",
}

"""Rendering summaries and reports from the Jinja templates in templates/.

One Environment, built here with every filter registered. HTML templates (any name holding
'.html', so `x.html.j2` too) are autoescaped; Markdown values go through `md`. Everything a
template receives has first passed through one redaction step (`redact.redacted`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from functools import cache
from importlib import resources

from triage.formats import md_cell, readable, terminal_safe
from triage.labels import NO_ERROR_BODY, json_value
from triage.redact import redacted
from triage.timespec import local


def sparkline(values: list[int]) -> str:
    """▁▂▃▅▇: one block a value, scaled to the largest."""
    blocks = "▁▂▃▄▅▆▇█"
    top = max(values, default=0)
    if not top:
        return blocks[0] * len(values)
    return "".join(blocks[min(7, round(v / top * 7))] for v in values)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _no_control_characters(value):
    """Every value a template prints: control characters from logs (NUL, ESC, BEL...) have
    no place in a page or a document, and HTML forbids them; they show as U+FFFD. Markup
    marked safe stays marked (type(value) keeps it so)."""
    if not isinstance(value, str) or not _CONTROL.search(value):
        return value
    return type(value)(_CONTROL.sub("\N{REPLACEMENT CHARACTER}", value))


def _autoescape(name: str | None) -> bool:
    return name is not None and ".html" in name


def _when(value: dt.datetime | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    from triage.timespec import zone

    return value.astimezone(zone(tz)).strftime(fmt)


def _one_local_day(start: dt.datetime, end: dt.datetime, tz: str) -> bool:
    """Whether a window (its end exclusive) lies within one day of the zone's calendar."""
    last = end - dt.timedelta(microseconds=1)
    return _when(start, tz, "%Y-%m-%d") == _when(last, tz, "%Y-%m-%d")


def _span(start: dt.datetime, end: dt.datetime, tz: str = "UTC") -> str:
    """A window as people read it: "2026-11-12 14:31 to 14:34 UTC" within one day, both
    dates when it runs over several."""
    end_fmt = "%H:%M %Z" if _one_local_day(start, end, tz) else "%Y-%m-%d %H:%M %Z"
    return f"{_when(start, tz, '%Y-%m-%d %H:%M')} to {_when(end, tz, end_fmt)}"


def _plain(value) -> str:
    """A value in plain text meant to be read by a person (an e-mail): no markup, no
    control characters, one line."""
    return "-" if value is None else terminal_safe(str(value)).replace("\\n", " ")


def _short_id(value: str | None) -> str:
    """An id shortened as a reply names it to a customer: key_…u8zk (enough to tell which)."""
    if not value or len(value) <= 12:
        return value or "-"
    head = value.split("_", 1)[0] + "_" if "_" in value[:8] else value[:4]
    return f"{head}…{value[-4:]}"


def _breakable(value) -> str:
    """An identifier in an HTML table cell that may wrap after its underscores
    (not_authorized_error), escaped: a long code no longer widens its column so far that the
    prose beside it is squeezed into tall rows."""
    from markupsafe import Markup, escape

    return Markup(str(escape(value)).replace("_", "_<wbr>"))


def customer_side(i: dict) -> str | None:
    """The sentence that says an incident is one customer's problem, or None."""
    c = i.get("customer_side")
    if not c:
        return None
    who = f"One org ({c['org_id']})" if c["org_id"] else "One customer"
    if c["kind"] == "key":
        who += f", one API key ({c['api_key_id']})"
    return (
        f"{who}: {c['failures']} of {c['of_failures']} failures ({c['share']:.0%}), and without "
        "them the rest is no burst: a customer-side problem, not an outage"
    )


def _code(value: str | None, in_table: bool = False) -> str:
    """Inline code in Markdown that no value can break: the fence is longer than any run of
    backticks inside, padded when the value starts or ends with one. In a table cell '|' is
    escaped too (GitHub splits a cell on a bare '|' even inside code; elsewhere the
    backslash would show)."""
    text = terminal_safe(str(value if value is not None else "")).replace("\\n", " ")
    if not text:
        return '`""`'
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def _load(name: str):
    """Templates ship as the triage.templates package (from a wheel or a checkout alike)."""
    from jinja2 import TemplateNotFound

    entry = resources.files("triage.templates").joinpath(name)
    if not entry.is_file():
        raise TemplateNotFound(name)
    source = entry.read_text(encoding="utf-8")
    return source, None, lambda: True


@cache
def environment():
    """The one Jinja environment (imported on first use: JSON output never pays for it)."""
    from jinja2 import Environment, FunctionLoader, StrictUndefined

    env = Environment(
        loader=FunctionLoader(_load),
        bytecode_cache=_bytecode_cache(),
        autoescape=_autoescape,
        finalize=_no_control_characters,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    from triage.timespec import zone_names

    env.globals["zone_names"] = zone_names  # not log data: nothing to mask
    env.filters.update(
        md=md_cell,
        code=_code,
        cellcode=lambda v: _code(v, in_table=True),
        term=lambda v: "-" if v is None or v == "" else terminal_safe(str(v)),
        when=_when,
        span=_span,
        one_day=_one_local_day,
        customer_side=customer_side,
        iso=local,
        ms=lambda v: "-" if v is None else f"{v:,.0f} ms",
        pct=lambda v: "-" if v is None else f"{v:.1%}",
        num=lambda v: "-" if v is None else f"{v:,}",
        delta=lambda v: "-" if v is None else f"{v:+.0%}",
        points=lambda v: "-" if v is None else f"{v * 100:+.1f} pts",
        spark=sparkline,
        plain=_plain,
        short_id=_short_id,
        clock=lambda v: "-" if v is None else _when(v, "UTC", "%H:%M:%S.%f")[:-3],
        tojson_compact=lambda v: json.dumps(v, default=str),
        readable=lambda v, column: readable(column, v),
        breakable=_breakable,
    )
    return env


def _bytecode_cache():
    """Compiled templates kept in the user's cache directory: compiling the lookup's
    templates took a fifth of a lookup's own time, on every run. Jinja keys each entry by the
    template's source, so an edited or upgraded template is compiled afresh. A cache that
    cannot be read or written is no cache, never an error."""
    import os
    from pathlib import Path

    from jinja2 import FileSystemBytecodeCache

    class QuietCache(FileSystemBytecodeCache):
        def load_bytecode(self, bucket):
            with contextlib.suppress(Exception):  # unreadable, truncated, another Python's
                super().load_bytecode(bucket)

        def dump_bytecode(self, bucket):
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    directory = Path(base) / "triage" / "templates"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return QuietCache(str(directory))


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**redacted(context))


def render_lookup(results, fmt: str, tz: str, view: str = "lookup") -> str:
    """Lookup answers as a view (lookup, summary, reply). JSON has stable keys; all masked.

    Summary and reply are written in Markdown; their HTML is that text on a page, escaped.
    """
    data = [r.as_dict() for r in results]
    if fmt == "json":
        text = json.dumps(redacted(data), indent=2, default=_json_default, ensure_ascii=False)
        return text + "\n"
    if view == "lookup":
        return render(f"lookup.{ {'text': 'txt'}.get(fmt, fmt) }.j2", results=data, tz=tz)
    if view == "reply":  # plain text for an e-mail, or the same words in Markdown
        if fmt == "text":
            return render("reply.txt.j2", results=data, tz=tz, markdown=False)
        markdown = render("reply.txt.j2", results=data, tz=tz, markdown=True)
    else:
        markdown = render(f"{view}.md.j2", results=data, tz=tz)
    if fmt == "md":
        return markdown
    title = f"triage {view}: " + ", ".join(r["request_id"] for r in data)
    return render("markdown_page.html.j2", title=title, body=markdown)


def _json_default(value):
    if isinstance(value, dt.datetime):
        return local(value, "UTC")
    return json_value(value)


def render_incident(incident, fmt: str, tz: str, served: dict | None = None) -> str:
    """An incident summary; `served` (the window form's values): as a page of `triage
    serve`, with its style sheet, links and a form for another window; else a file that
    stands alone."""
    data = incident.as_dict()
    if fmt == "json":
        return json.dumps(redacted(data), indent=2, default=_json_default) + "\n"
    template = {"md": "incident.md.j2", "html": "incident.html.j2"}[fmt]
    # one customer's problem is no outage: it gets no status-page text
    status = None if data["customer_side"] else status_paragraph(data, tz)
    return render(
        template,
        incident=data,
        tz=tz,
        status_paragraph=status,
        served=served is not None,
        form=served or {},
    )


def status_paragraph(i: dict, tz: str) -> str:
    """A short, factual status-page paragraph: when, how much, what, who, whose side."""
    m = i["impact"]
    if _one_local_day(i["start"], i["end"], tz):
        day = _when(i["start"], tz, "%B %-d, %Y")
        span = f"{_when(i['start'], tz, '%H:%M')} and {_when(i['end'], tz, '%H:%M %Z')}"
        when = f"Between {span} on {day}"
    else:
        when = (
            f"Between {_when(i['start'], tz, '%B %-d %H:%M')} and "
            f"{_when(i['end'], tz, '%B %-d, %Y %H:%M %Z')}"
        )
    rate = f"{m['failure_rate']:.0%}" if m["failure_rate"] is not None else "some"
    to = f"requests to {i['family']}" if i.get("family") else "requests to the Scaling API"
    text = f"{when}, {m['failures']} of {m['requests']} {to} failed ({rate})."
    if i["codes"]:
        top = i["codes"][0]
        if top["key"].startswith(NO_ERROR_BODY):
            text += f" Most failures were HTTP {top['status']} responses with no error body"
        else:
            text += f" Most failures were {top['key']} (HTTP {top['status']})"
        if i["routes"]:
            text += f", on {i['routes'][0]['key']}"
        text += "."
    text += f" {m['orgs_affected']} organization{'s' if m['orgs_affected'] != 1 else ''} "
    text += "were affected." if m["orgs_affected"] != 1 else "was affected."
    if m["server_errors"] * 2 >= m["failures"] > 0:
        text += (
            " The errors came from the Scaling side; requests retried after the window "
            "succeed, and no action is needed from customers."
        )
    else:
        text += (
            " These were requests the API rejected (client errors); affected customers "
            "should check the error codes and their integration."
        )
    return text


def render_report(
    report: dict, fmt: str, stamp: str | None = None, served: dict | None = None
) -> str:
    """The weekly report as Markdown, JSON or a self-contained HTML page with charts;
    `served` ({"weeks": {"previous": ..., "next": ...}, "tz": ...}): as a page of
    `triage serve`, with links to the weeks around it."""
    if fmt == "json":
        data = {**report, "generated_at": stamp} if stamp else report
        return (
            json.dumps(redacted(data), indent=2, default=_json_default, ensure_ascii=False) + "\n"
        )
    if fmt == "md":
        return render("report.md.j2", report=report, stamp=stamp)
    from triage.charts import report_charts

    return render(
        "report.html.j2",
        report=report,
        stamp=stamp,
        charts=report_charts(report),
        served=bool(served),
        around=served or {},
    )

"""Rendering summaries and reports from the Jinja templates in templates/.

One Environment, built here with every filter registered. HTML templates (any name holding
'.html', so `x.html.j2` too) are autoescaped; Markdown values go through `md`. Everything a
template receives has first passed through one redaction step (`redacted`).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources

from jinja2 import Environment, FunctionLoader, StrictUndefined, TemplateNotFound

from triage.formats import md_cell, terminal_safe
from triage.redact import mask
from triage.timespec import local


def redacted(value):
    """The same structure with every string masked: the one redaction step before output."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    return value


def _autoescape(name: str | None) -> bool:
    return bool(name) and ".html" in name


def _when(value: dt.datetime | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    from triage.timespec import zone

    return value.astimezone(zone(tz)).strftime(fmt)


def _code(value: str | None) -> str:
    """Inline code in Markdown that no backtick in the value can break."""
    text = terminal_safe(str(value if value is not None else "")).replace("\\n", " ")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if text else '`""`'


def _load(name: str):
    """Templates ship as the triage.templates package (from a wheel or a checkout alike)."""
    entry = resources.files("triage.templates").joinpath(name)
    if not entry.is_file():
        raise TemplateNotFound(name)
    source = entry.read_text(encoding="utf-8")
    return source, None, lambda: True


@cache
def environment() -> Environment:
    env = Environment(
        loader=FunctionLoader(_load),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md_cell,
        code=_code,
        term=lambda v: "-" if v is None or v == "" else terminal_safe(str(v)),
        when=_when,
        iso=local,
        ms=lambda v: "-" if v is None else f"{v:,.0f} ms",
        clock=lambda v: "-" if v is None else _when(v, "UTC", "%H:%M:%S.%f")[:-3],
        tojson_compact=lambda v: json.dumps(v, default=str),
    )
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**redacted(context))


def render_lookup(results, fmt: str, tz: str) -> str:
    """One lookup answer in the chosen format; JSON has stable keys, everything is masked."""
    data = [r.as_dict() for r in results]
    if fmt == "json":
        return (
            json.dumps(redacted(data), indent=2, default=_json_default, ensure_ascii=False) + "\n"
        )
    template = {"text": "lookup.txt.j2", "md": "lookup.md.j2", "html": "lookup.html.j2"}[fmt]
    return render(template, results=data, tz=tz)


def _json_default(value):
    if isinstance(value, dt.datetime):
        return local(value, "UTC")
    return str(value)

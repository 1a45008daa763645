"""`triage serve` end to end in a real headless Chromium (Debian's, driven by Playwright):
what a support agent does, at a laptop's width and a phone's, with no console error and no
request leaving the server. TRIAGE_SCREENSHOTS=DIR keeps the screenshots README shows."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.pngcheck import ink_ratio
from tests.serving import failing_ids, serving
from tests.test_report import chromium as find_chromium
from tests.test_security import ID_INJ, WEEK, _ingested, corpus_lines

playwright = pytest.importorskip("playwright.sync_api")

LAPTOP, PHONE = 1280, 390


def chromium() -> str:
    found = find_chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (see .ci/run)")
        pytest.skip("chromium is not installed here")
    return found


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_ingest):
    db = tmp_path_factory.mktemp("browser") / "sample.duckdb"
    shutil.copyfile(sample_ingest[0], db)
    with serving(db) as running:
        running.db = db
        yield running


class Watch:
    """A page with everything it logs and asks for recorded."""

    def __init__(self, browser, server, width=LAPTOP, **context):
        self.context = browser.new_context(viewport={"width": width, "height": 900}, **context)
        self.page = self.context.new_page()
        self.server = server
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def goto(self, path: str):
        answer = self.page.goto(self.server.base + path)
        self.page.wait_for_load_state("networkidle")
        return answer

    def check(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        foreign = [u for u in self.requests if not u.startswith(self.server.base + "/")]
        assert foreign == [] or all(u.startswith("data:") for u in foreign), foreign

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser, server):
    opened = []

    def open_(width=LAPTOP, **context):
        w = Watch(browser, server, width, **context)
        opened.append(w)
        return w

    yield open_
    for w in opened:
        w.close()


def keep(shot: bytes, name: str, tmp_path: Path) -> None:
    """A screenshot must show a page (not a blank one); kept where TRIAGE_SCREENSHOTS says."""
    assert ink_ratio(shot) > 0.01, name
    directory = Path(os.environ.get("TRIAGE_SCREENSHOTS") or tmp_path)
    (directory / name).write_bytes(shot)


def test_paste_a_ticket_copy_the_reply_and_go_on_to_the_report(watch, server, tmp_path):
    ids = failing_ids(server.db)
    w = watch(permissions=["clipboard-read", "clipboard-write"])
    w.goto("/")
    w.page.fill(
        "textarea[name=q]",
        f"Hi team, two calls failed today: request id {ids[0]} and ({ids[1]}). Thanks!",
    )
    w.page.click("button[type=submit]")
    w.page.wait_for_url(re.compile(r"/lookup\?"))
    w.page.wait_for_load_state("networkidle")
    sections = w.page.locator("section")
    assert sections.count() == 2
    for k, rid in enumerate(ids):
        assert rid in sections.nth(k).locator("h1").inner_text()
        assert re.match(r"Trace \(\d+ events?\)", sections.nth(k).locator("h2").nth(1).inner_text())
        assert sections.nth(k).locator("table").nth(1).locator("tr").count() >= 2
    keep(w.page.screenshot(full_page=False), "serve-lookup.png", tmp_path)

    # the copy buttons (shown only where a script can copy) put the texts on the clipboard
    w.page.click("button[data-copy=reply]")
    w.page.wait_for_function("document.querySelector('.copied').textContent === 'Copied.'")
    copied = w.page.evaluate("navigator.clipboard.readText()")
    assert copied == w.page.locator("#reply").text_content()
    assert ids[0] in copied and ids[1] in copied
    w.page.click("button[data-copy=summary]")
    w.page.wait_for_function(
        "navigator.clipboard.readText().then(t => t.startsWith('#') || t.includes('**'))"
    )

    # on to the weekly report, and the week before it
    w.page.click("nav >> text=weekly report")
    w.page.wait_for_url(re.compile(r"/reports/weekly/2026-W46"))
    assert "2026-W46" in w.page.locator("h1").inner_text()
    w.page.click("a[rel=prev]")
    w.page.wait_for_url(re.compile(r"/reports/weekly/2026-W45"))
    assert "2026-W45" in w.page.locator("h1").inner_text()
    w.check()


def test_the_errors_form_filters_and_links_to_examples(watch, tmp_path):
    w = watch()
    w.goto("/errors")
    w.page.fill("input[name=by]", "route,code")
    w.page.fill("input[name=status]", "5xx")
    w.page.click("form.filters button[type=submit]")
    w.page.wait_for_url(re.compile(r"status=5xx"))
    w.page.wait_for_load_state("networkidle")
    headers = [
        h.strip() for h in w.page.locator("table.rows tr").first.locator("th").all_inner_texts()
    ]
    assert headers[:3] == ["route", "code", "count"]
    assert w.page.locator("table.rows tr").count() > 1
    keep(w.page.screenshot(full_page=False), "serve-errors.png", tmp_path)
    w.page.locator("a.rid").first.click()
    w.page.wait_for_url(re.compile(r"/requests/"))
    assert w.page.locator("h1").first.inner_text().startswith("Request ")
    assert " 5" in w.page.locator("p strong").first.inner_text()  # a 5xx, as filtered
    w.check()


PAGES = ["/", "/errors", "/contract", "/reports/weekly/2026-W46", "/incidents", "/sources"]


@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_every_page_fits_the_screen(watch, server, width, tmp_path):
    """No page is wider than the screen (a wide table scrolls in its own box), and each
    shows something; the lookup page too."""
    w = watch(width)
    for path in [*PAGES, "/lookup?q=" + quote(" ".join(failing_ids(server.db)))]:
        answer = w.goto(path)
        assert answer.status == 200, path
        overflow = w.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, width, overflow)
        name = re.sub(r"\W+", "-", path.split("?")[0]).strip("-") or "home"
        keep(w.page.screenshot(full_page=False), f"page-{name}-{width}.png", tmp_path)
    w.check()


def test_the_time_zone_defaults_to_the_browsers_and_nothing_needs_a_script(watch, server):
    rid = failing_ids(server.db)[0]
    w = watch(timezone_id="America/New_York")
    w.goto(f"/lookup?q={rid}")
    assert "tz=America%2FNew_York" in w.page.url
    assert w.page.locator("select#tz").input_value() == "America/New_York"
    assert re.search(
        r"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T\)", w.page.locator("section").inner_text()
    )
    w.check()
    # without JavaScript: the same answer (in UTC), the texts to copy by hand, no buttons
    bare = watch(java_script_enabled=False)
    bare.goto(f"/lookup?q={rid}")
    assert rid in bare.page.locator("section h1").inner_text()
    assert bare.page.locator("button.copy:visible").count() == 0
    assert rid in bare.page.locator("#reply").text_content()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    db = _ingested(tmp_path_factory.mktemp("browser-xss"), corpus_lines())
    with serving(db) as running:
        yield running


@pytest.mark.parametrize(
    "path",
    [f"/requests/{ID_INJ}", "/errors?by=route,org,key,code", f"/reports/weekly/{WEEK}"],
)
def test_payloads_from_logs_stay_text_in_the_browser(browser, planted, path):
    w = Watch(browser, planted)
    try:
        w.goto(path)
        assert w.page.evaluate("document.scripts.length") == 1  # ours, from /static/
        assert w.page.evaluate("document.querySelectorAll('img').length") == 0
        assert "<script>alert(1)</script>" in w.page.locator("body").inner_text()
        w.check()
    finally:
        w.close()


def test_the_reports_codes_table_gives_its_room_to_the_meaning(watch):
    """At a laptop's width the documented meaning is not squeezed into a narrow column of tall
    rows by the long identifiers beside it (they may wrap after an underscore instead)."""
    w = watch(1100)
    w.goto("/reports/weekly/2026-W46")
    table = w.page.locator("table:has(th.meaning)")
    whole = table.bounding_box()["width"]
    meaning = min(
        box["width"] for box in (c.bounding_box() for c in table.locator("td.meaning").all())
    )
    assert meaning >= 0.3 * whole, (meaning, whole)
    assert w.page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    w.check()

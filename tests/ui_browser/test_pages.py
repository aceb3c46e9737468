"""``traceroot ui`` in a real browser: headless Chromium (the OS package) driven by Playwright.

The store is filled the way a user fills it: by running ``examples/quickstart.py``, and by small
instrumented scripts for the hostile output and for a trace written while the page is open. The
page must list the quickstart's session with its two traces, lead to a trace and a model call's
chat, show markup from a span as the literal text it is (running nothing), and pick up new
traces by itself. Screenshots of the three views go to the test's temporary directory, and to
``TRACEROOT_UI_SCREENSHOTS`` (a directory) when set, which is how docs/images is refreshed.

Skipped when Playwright or a Chromium binary is missing; never downloads a browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from traceroot.ui import server

from ..conftest import REQUIRED_ENV, required, run_python, run_script

# The ui tox env requires both (TRACEROOT_REQUIRE_FRAMEWORKS names them): there a missing one fails.
sync_api = required("playwright.sync_api")
CHROMIUM = os.environ.get("TRACEROOT_CHROMIUM") or next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
if CHROMIUM is None:
    if "chromium" in os.environ.get(REQUIRED_ENV, ""):
        raise RuntimeError("no Chromium binary: apt-get install chromium")
    pytest.skip("no Chromium binary (apt-get install chromium)", allow_module_level=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
XSS = "<img src=x onerror=alert(1)>"
WAIT_MS = 15_000


def observed(store_dir: Path, session: str, output: str) -> None:
    """One trace through the real pipeline into the store in ``store_dir``: an observed agent in
    ``session`` returning ``output``."""
    result = run_script(
        f"""
        import traceroot
        traceroot.instrument()

        @traceroot.observe(type="agent", name="renderer")
        def renderer(question):
            return {output!r}

        with traceroot.using_attributes(session_id={session!r}, user_id="mallory"):
            renderer("show me the page")
        traceroot.flush()
        """,
        cwd=str(store_dir),
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ui-store")
    result = run_python([str(EXAMPLES / "quickstart.py")], cwd=str(directory), timeout=120)
    assert result.returncode == 0, result.stderr
    return directory


@pytest.fixture(scope="module")
def base_url(store_dir: Path) -> Iterator[str]:
    viewer = server.start(str(store_dir / ".traceroot" / "traces.db"))
    yield f"http://127.0.0.1:{viewer.port}/"
    viewer.shutdown()
    viewer.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A page that records dialogs, script errors and every request to another origin."""
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    opened = context.new_page()
    opened.dialogs = []
    opened.errors = []
    opened.elsewhere = []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    opened.on(
        "request",
        lambda request: (
            None if request.url.startswith(base_url) else opened.elsewhere.append(request.url)
        ),
    )
    yield opened
    assert opened.errors == []
    assert opened.elsewhere == []  # nothing fetched from any other host
    context.close()


def screenshot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"ui-{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get("TRACEROOT_UI_SCREENSHOTS"):
        target = Path(os.environ["TRACEROOT_UI_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)


def test_sessions_to_a_session_to_a_trace_to_a_model_call(
    page: Any, base_url: str, tmp_path: Path
) -> None:
    page.goto(base_url)
    row = page.locator('table.list tr[data-id="quickstart-chat"]')
    row.wait_for(timeout=WAIT_MS)
    cells = row.locator("td")
    assert cells.nth(1).inner_text() == "ada"
    assert cells.nth(2).inner_text() == "2"  # its two traces
    assert cells.nth(3).inner_text() == "What's the weather in San Francisco?"
    screenshot(page, tmp_path, "sessions")

    row.get_by_role("link", name="quickstart-chat").click()
    turns = page.locator("section.turn")
    turns.first.wait_for(timeout=WAIT_MS)
    assert turns.count() == 2
    assert (
        turns.nth(0)
        .locator(".bubble.user")
        .inner_text()
        .endswith("What's the weather in San Francisco?")
    )
    assert turns.nth(1).locator(".bubble.user").inner_text().endswith("And what time is it there?")
    assert "Sunny and 21 C" in turns.nth(0).locator(".bubble.assistant").inner_text()
    screenshot(page, tmp_path, "session")

    turns.nth(0).get_by_role("button", name="Show trace").click()
    inline = turns.nth(0).locator(".tree .row")
    inline.first.wait_for(timeout=WAIT_MS)
    assert inline.count() == 14

    turns.nth(0).locator(".turn-meta a").click()
    rows = page.locator("main > .trace .tree .row")
    rows.first.wait_for(timeout=WAIT_MS)
    assert rows.first.locator(".span-name").inner_text() == "LangGraph"
    model_call = rows.filter(has=page.locator(".kind.k-llm")).first
    model_call.click()
    panel = page.locator("main > .trace .panel")
    assert panel.locator("h2").inner_text().endswith("chat gpt-4o-mini")
    chat = panel.locator(".chat")
    assert "What's the weather in San Francisco?" in chat.first.inner_text()
    assert '-> get_weather({"city": "San Francisco"})' in chat.nth(1).inner_text()
    assert "input" in panel.inner_text()  # its usage
    screenshot(page, tmp_path, "trace")


def test_markup_from_a_span_is_shown_as_text_and_runs_nothing(
    page: Any, base_url: str, store_dir: Path
) -> None:
    observed(store_dir, "hostile-session", XSS)
    page.goto(base_url + "#/sessions?user=mallory")
    row = page.locator('table.list tr[data-id="hostile-session"]')
    row.wait_for(timeout=WAIT_MS)
    assert XSS in row.inner_text()
    row.get_by_role("link", name="hostile-session").click()
    page.locator("section.turn").first.wait_for(timeout=WAIT_MS)
    assert page.locator(".bubble.assistant .text").inner_text() == XSS
    page.locator("section.turn .turn-meta a").click()
    page.locator(".panel h2").wait_for(timeout=WAIT_MS)
    page.get_by_text(XSS, exact=True).first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(500)  # time for an injected handler to have fired, had there been one
    assert page.dialogs == []
    assert page.locator("img").count() == 0  # the text made no element
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0


def test_a_trace_written_while_the_page_is_open_appears(
    page: Any, base_url: str, store_dir: Path
) -> None:
    page.goto(base_url)
    page.locator('table.list tr[data-id="quickstart-chat"]').wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(500)  # the first poll has taken its cursor
    assert page.locator('tr[data-id="late-session"]').count() == 0
    observed(store_dir, "late-session", "written while you watched")
    page.locator('table.list tr[data-id="late-session"]').wait_for(timeout=WAIT_MS)
    assert "written while you watched" in page.locator('tr[data-id="late-session"]').inner_text()


def test_a_page_opened_before_any_store_exists_fills_in_when_one_appears(
    browser: Any, tmp_path: Path
) -> None:
    viewer = server.start(str(tmp_path / ".traceroot" / "traces.db"))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{viewer.port}/")
        page.get_by_text("no traces yet").wait_for(timeout=WAIT_MS)
        observed(tmp_path, "first-ever", "hello")
        page.locator('table.list tr[data-id="first-ever"]').wait_for(timeout=WAIT_MS)
    finally:
        context.close()
        viewer.shutdown()
        viewer.server_close()

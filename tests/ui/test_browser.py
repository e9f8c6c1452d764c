"""The dashboard in a real browser: Debian's Chromium driven by Playwright for Python.

Playwright's own browser download cannot reach the internet here, so the tests launch the system
Chromium (``apt-get install chromium``; ``.ci/run`` installs it). Without it they are skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from noria.project import Project
from tests.ui.conftest import LiveServer, UIProject

CHROMIUM = os.environ.get("NORIA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "browser-token"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def read_only(ui_project: UIProject) -> Iterator[LiveServer]:
    server = LiveServer(ui_project.root, allow_actions=False, token=None)
    yield server
    server.close()


@pytest.fixture(scope="module")
def with_actions(ui_project: UIProject) -> Iterator[LiveServer]:
    server = LiveServer(ui_project.root, allow_actions=True, token=TOKEN)
    yield server
    server.close()


class Watched:
    """A page that records console errors, page errors and failed requests."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    w = Watched(browser)
    yield w
    w.close()


def test_every_page_opens_without_a_console_error(
    ui_project: UIProject, read_only: LiveServer, watched: Watched
) -> None:
    p = ui_project
    urls = [
        "/runs",
        "/runs?trials=1&sort=metrics.cv_roc_auc&desc=0",
        f"/runs/{p.run_id}",
        f"/runs/{p.trial_ids[0]}",
        f"/runs/{p.evil_id}",
        f"/runs/{p.history_id}",
        f"/compare?parent={p.run_id}",
        f"/compare?runs={p.trial_ids[0]},{p.trial_ids[1]}",
        "/models",
        f"/models/{p.model}",
        f"/models/{p.model}/versions/1",
        "/monitor",
        "/data",
        f"/compare?runs={p.history_id},{p.run_id}",
    ]
    for url in urls:
        response = watched.page.goto(read_only.url + url)
        assert response.status == 200, url
        assert watched.page.locator("nav").count() == 1
    assert watched.problems == []
    # the planted script never ran: the name is text on the page
    assert watched.page.evaluate("typeof window.alert") == "function"
    watched.page.goto(f"{read_only.url}/runs/{p.evil_id}")
    assert watched.page.inner_text("#run-name").startswith('<script>alert("x")</script>')


def test_a_filter_works(ui_project: UIProject, read_only: LiveServer, watched: Watched) -> None:
    page = watched.page
    page.goto(read_only.url + "/runs")
    page.fill("#filter", "family = linear")
    page.check("input[name=trials]")
    page.click("#apply")
    page.wait_for_url("**/runs?*filter=family*")
    rows = page.locator("#runs-table tbody tr")
    assert rows.count() == len(ui_project.trial_ids) + 1
    page.fill("#filter", "cv_roc_auc >")
    page.click("#apply")
    assert "column 13" in page.inner_text("#filter-error")
    assert watched.problems == [] or all("400" in x for x in watched.problems)


def test_a_comparison_works(ui_project: UIProject, read_only: LiveServer, watched: Watched) -> None:
    page = watched.page
    page.goto(read_only.url + "/runs?trials=1&filter=kind%20%3D%20trial")
    boxes = page.locator("#runs-table input[type=checkbox]")
    assert boxes.count() == len(ui_project.trial_ids)
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#compare-button")
    page.wait_for_url("**/compare?*")
    assert page.inner_text("h1") == "Compare 2 runs"
    assert page.locator("svg.chart").count() >= 2  # the scatter and the parallel coordinates
    assert page.locator("#compare-table tbody tr").count() == 2
    assert watched.problems == []


def test_promote_moves_the_alias_when_allowed(
    ui_project: UIProject, with_actions: LiveServer, watched: Watched
) -> None:
    page = watched.page
    page.goto(f"{with_actions.url}/models/{ui_project.model}")
    assert page.locator("input[name=token]").count() == 1  # the login page first
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("#versions")
    row = page.locator("#version-1")
    row.locator("input[name=alias]").fill("browser-pick")
    row.locator("input[name=reason]").fill("chosen in the browser")
    row.locator("button.promote").click()
    page.wait_for_selector("#done")
    assert "browser-pick" in page.inner_text("#version-1 .aliases")
    store = Project(ui_project.root).metadata
    assert (ui_project.model, "browser-pick", 1) in store.aliases(ui_project.model)
    assert "chosen in the browser" in page.inner_text("#audit")
    assert watched.problems == []


def test_no_promote_button_when_read_only(
    ui_project: UIProject, read_only: LiveServer, watched: Watched
) -> None:
    watched.page.goto(f"{read_only.url}/models/{ui_project.model}")
    assert watched.page.locator("#versions").count() == 1
    assert watched.page.locator("button.promote, button.rollback").count() == 0


def test_a_request_without_the_token_is_refused(
    ui_project: UIProject, with_actions: LiveServer, watched: Watched
) -> None:
    url = f"{with_actions.url}/runs/{ui_project.run_id}"
    watched.page.goto(url)  # a browser is sent to the login page
    assert watched.page.url.startswith(f"{with_actions.url}/login?next=")
    assert watched.page.locator("input[name=token]").count() == 1
    assert watched.page.locator("#run-name").count() == 0
    response = watched.context.request.get(url)  # a script gets a 401
    assert response.status == 401 and "run-name" not in response.text()
    response = watched.context.request.get(url, headers={"authorization": "Bearer nope"})
    assert response.status == 401
    response = watched.context.request.get(url, headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status == 200 and "run-name" in response.text()
    assert watched.problems == []


def test_data_version_and_previews_open(
    ui_project: UIProject, read_only: LiveServer, watched: Watched
) -> None:
    page = watched.page
    page.goto(f"{read_only.url}/runs/{ui_project.run_id}")
    page.click("text=data version")
    assert page.url.startswith(f"{read_only.url}/data/")
    assert page.locator("#profile tbody tr").count() == 8  # the penguins' columns
    page.click("#check-now")
    assert "Checked now against" in page.inner_text("main")
    page.click("text=preview the rows")
    assert page.locator("#preview-table tbody tr").count() == 50
    page.goto(f"{read_only.url}/runs/{ui_project.run_id}")
    page.locator("#artifacts a", has_text="preview").last.click()
    assert page.locator("#preview-json").count() == 1
    assert watched.problems == []


def test_a_sort_by_a_metric_pages_the_same_way(
    ui_project: UIProject, read_only: LiveServer, watched: Watched
) -> None:
    page = watched.page
    page.goto(f"{read_only.url}/runs?trials=1&sort=metrics.cv_roc_auc&desc=1&per=2")
    first = page.locator("#runs-table tbody tr").all_inner_texts()
    page.goto(f"{read_only.url}/runs?trials=1&sort=metrics.cv_roc_auc&desc=1&per=2&page=2")
    second = page.locator("#runs-table tbody tr").all_inner_texts()
    assert len(first) == 2 and second and not set(first) & set(second)
    assert watched.problems == []

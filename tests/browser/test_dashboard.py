"""The command-center dashboard in a real headless Chromium (Debian's, driven by Playwright): sign in,
see the hot spots, drill down street → community → grid, open a case, switch to English. Screenshots are saved to
test-artifacts/screenshots/ for people to look at."""
from __future__ import annotations

import itertools
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from shared import auth
from shared.config import BackendSettings
from shared.org.demo import demo_registry
from shared.org.registry import flatten, import_registry
from services.tracker import bootstrap, handlers, synthetic
from services.tracker.settings import TrackerSettings
from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PORT = int(os.environ.get("GRIDDESK_TEST_PORT_BASE", "18100")) + 50


@pytest.fixture
def dashboard(tmp_path):
    settings = TrackerSettings(backend=BackendSettings(backend="embedded", data_dir=str(tmp_path / "data"),
                                                       sqlite_synchronous="OFF"))
    tracker = bootstrap.build(settings)
    bootstrap.prepare(tracker)
    registry = demo_registry()
    import_registry(tracker.store, registry)
    chains = [u["chain"] for u in flatten(registry) if u["level"] == "unit"]
    start = datetime.now(timezone.utc) - timedelta(days=27)
    rng = synthetic.random.Random(5)
    events = itertools.chain.from_iterable(
        synthetic.case_events(f"GD-DEMO{n:04d}", rng.choice(chains), rng, start=start, spread_days=25)
        for n in range(120))
    for event in events:
        handlers.project_case(event, tracker.store, tracker.policy)
    handlers.add_pending_to_buckets(tracker.store)
    token = auth.issue_staff_token(tracker.store, "值班长", "command_center", "XX", "district")
    server = make_server("127.0.0.1", PORT, bootstrap.create_app(tracker), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORT}", token
    server.shutdown()
    tracker.store.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_sign_in_drill_down_and_open_a_case(dashboard):
    url, token = dashboard
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page.goto(url)
        expect(page.get_by_test_id("signin")).to_be_visible()
        page.get_by_test_id("token").fill(token)
        page.get_by_test_id("signin-button").click()
        expect(page.get_by_test_id("indicator-received")).to_contain_text("受理量")
        expect(page.get_by_test_id("indicator-received")).to_contain_text("120")
        expect(page.locator("[data-testid^=grid-]").first).to_be_visible()
        # hot spots: the street's categories, all new against the empty 30 days before
        expect(page.locator("[data-testid^=growing-QJ-]").first).to_be_visible()
        expect(page.get_by_test_id("growing")).to_contain_text("增幅")
        shot(page, "01-overview-zh")

        page.get_by_test_id("row-QJ").click()  # the street
        expect(page.get_by_test_id("crumb-QJ")).to_be_visible()
        page.get_by_test_id("row-QJ01").click()  # a community
        expect(page.get_by_test_id("crumb-QJ01")).to_be_visible()
        rows = page.locator("[data-testid^=row-QJ01-G]")
        expect(rows.first).to_be_visible()
        assert rows.count() >= 3  # its grids
        shot(page, "02-community-grids")

        page.locator("[data-testid^=case-GD-DEMO]").first.click()
        expect(page.get_by_test_id("case-page")).to_be_visible()
        expect(page.get_by_test_id("timeline")).to_contain_text("CaseReported")
        shot(page, "03-case-timeline")

        page.get_by_test_id("lang").click()
        expect(page.get_by_text("Timeline")).to_be_visible()
        page.go_back()
        expect(page.get_by_test_id("indicator-received")).to_contain_text("Received")
        expect(page.get_by_text("Fastest-growing categories")).to_be_visible()
        shot(page, "04-overview-en")
        browser.close()

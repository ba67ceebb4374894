"""The HTML report in a real headless Chromium (Debian's ``chromium``, driven by playwright):
no request but the file itself, and the rendered DOM holds the charts and the figures."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drillbook.reports import history, journals, model, render
from drillbook.reports.options import ReportOptions
from tests.reports.conftest import NOW, RUN_ANNUAL, RUN_C, RUN_MONTHLY, SUITE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("chromium is missing: .ci/run installs Debian's chromium package")
    pytest.skip("no chromium here: apt-get install -y chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            timeout=60_000,
        )
        try:
            yield context
        finally:
            context.close()


def open_page(browser: Any, path: Path) -> tuple[Any, list[str]]:
    """Load ``path``; every request the page makes other than the file itself is recorded and refused."""
    page = browser.new_page()
    url = path.resolve().as_uri()
    requests: list[str] = []

    def route(r: Any) -> None:
        if r.request.url == url:
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: None if req.url == url else requests.append(req.url))
    page.goto(url, wait_until="load", timeout=30_000)
    page.wait_for_timeout(300)  # anything lazy (fonts, images) would be asked for by now
    return page, requests


def write_report(tmp_path: Path, run_id: str) -> tuple[Path, model.RunReport]:
    records = journals.run_records(Path(__file__).parents[2] / SUITE, run_id)
    report = model.build_run(records, ReportOptions(), generated_at=NOW, generator="test")
    (path,) = render.write_run(report, tmp_path, ["html"])
    return path, report


@pytest.mark.parametrize("run_id", [RUN_MONTHLY, RUN_ANNUAL, RUN_C])
def test_report_makes_no_request_and_shows_the_measurements(
    browser: Any, tmp_path: Path, run_id: str
) -> None:
    path, report = write_report(tmp_path, run_id)
    page, requests = open_page(browser, path)
    try:
        assert requests == []
        assert page.locator("script").count() == 0
        assert page.locator("svg.timeline").count() == len(report.drills)
        assert page.locator("svg.bars").count() == len(report.drills)
        for n, drill in enumerate(report.drills, 1):
            timeline = page.locator(f"#timeline-{n}")
            shown = timeline.locator("rect.phase").evaluate_all("els => els.map(e => e.dataset.phase)")
            timed = [p.name for p in drill.phases if p.duration_s is not None]
            assert shown == timed
            assert timeline.locator("line.rto-target").count() == 1
            label = timeline.locator("text.rto-target-label").text_content() or ""
            assert f"{drill.rto.name} target {drill.rto.target}" in label
            if drill.rto.measured_s is not None:
                assert timeline.locator("line.marker.recovered").count() == 1
            article = page.locator(f"#drill-{n}")
            text = article.inner_text()
            assert f"Actual {drill.rto.name}\t{drill.rto.measured} (Target: {drill.rto.target})" in text
            assert f"Actual RPO\t{drill.rpo.measured} (Target: {drill.rpo.target})" in text
            bars = page.locator(f"#bars-{n}")
            assert (bars.locator("text.measured-label").first.text_content() or "").startswith("measured ")
            assert article.get_attribute("data-status") == drill.status
    finally:
        page.close()


def test_report_prints_every_drill_on_its_own_pages(browser: Any, tmp_path: Path) -> None:
    path, report = write_report(tmp_path, RUN_MONTHLY)
    page, requests = open_page(browser, path)
    try:
        page.emulate_media(media="print")
        breaks = page.locator("article.drill").evaluate_all(
            "els => els.map(e => getComputedStyle(e).breakBefore)"
        )
        assert breaks == ["page"] * len(report.drills)
        pdf = page.pdf()
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        assert requests == []
    finally:
        page.close()


def test_history_page_makes_no_request(browser: Any, tmp_path: Path) -> None:
    built = history.build(
        Path(__file__).parents[2] / SUITE, ReportOptions(), datetime(2026, 11, 28, tzinfo=UTC)
    )
    path = tmp_path / "history.html"
    path.write_text(history.html(built, generated_at="now", generator="test"), encoding="utf-8")
    page, requests = open_page(browser, path)
    try:
        assert requests == []
        assert page.locator("svg.trend").count() == 2 * len(built.scenarios)
        assert page.locator("table.freshness td.NEVER-PASSED").count() == len(built.freshness.overdue)
    finally:
        page.close()


def test_the_request_count_would_catch_an_external_resource(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "leaky.html"
    path.write_text("<html><body><img src='http://127.0.0.1:9/pixel.png'></body></html>", encoding="utf-8")
    page, requests = open_page(browser, path)
    page.close()
    assert "http://127.0.0.1:9/pixel.png" in requests  # refused by the route, never sent

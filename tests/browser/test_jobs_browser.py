"""Background jobs in a real browser: an organiser asks for the raw answers, watches the progress, and gets
the download link without reloading the page by hand, with JavaScript (the page polls) and without it
(the page refreshes itself). The job is run by a real worker process."""

from __future__ import annotations

import re

import pytest

from ..test_mail import Worker
from .conftest import DESKTOP, PHONE, login, no_horizontal_page_scroll, serious_violations, shot

pytestmark = pytest.mark.browser


def test_an_export_job_shows_progress_then_its_download_with_and_without_javascript(browser, own_live, tmp_path):
    app = own_live.app
    page = browser.new_context(**PHONE).new_page()
    page.device = "phone"
    login(page, own_live.url, "organiser")
    page.goto(f"{own_live.url}/organiser/campaigns/1")
    page.get_by_role("button", name="Przygotuj surowe odpowiedzi dla analityków").click()
    page.wait_for_load_state("networkidle")
    assert re.search(r"/organiser/jobs/\d+$", page.url)
    assert page.locator("progress").is_visible() and page.get_by_text("Czeka na wykonanie").is_visible()
    assert serious_violations(page) == [] and no_horizontal_page_scroll(page)
    shot(page, "job-waiting")
    still = browser.new_context(**DESKTOP, java_script_enabled=False)
    plain = still.new_page()
    login(plain, own_live.url, "organiser")
    plain.goto(page.url)
    assert plain.locator("progress").is_visible()

    instance = app.instance_path
    worker = Worker(app, tmp_path, 1)
    worker.env.update(JOBS_URL=f"sqlite:///{instance}/jobs.sqlite3", JOBS_DIR=str(app.config["JOBS_DIR"]),
                      SMTP_HOST="")
    worker.start()
    try:
        link = page.get_by_role("link", name=re.compile(r"Pobierz answers-\d{4}\.xlsx"))
        link.wait_for(timeout=60_000)  # the script saw the job finish and loaded the page again
        plain.get_by_role("link", name=re.compile(r"Pobierz answers-\d{4}\.xlsx")).wait_for(timeout=60_000)
        shot(page, "job-done")
        with page.expect_download() as download:
            link.click()
        assert re.fullmatch(r"answers-\d{4}\.xlsx", download.value.suggested_filename)
        page.goto(f"{own_live.url}/organiser/jobs")
        assert page.get_by_text("Gotowe").first.is_visible() and no_horizontal_page_scroll(page)
        assert serious_violations(page) == []
    finally:
        worker.stop()
        still.close()
        page.context.close()

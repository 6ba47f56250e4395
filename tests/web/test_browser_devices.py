"""The Devices page's System card in a real headless Chromium against the real agent on the
simulated home: hems's and the image's versions and the last run of Debian's security upgrades
(apt's stamp file and the upgrade log, written by the test with a known time); a warning when
they are on and have not run for more than 3 days; the wording off the image; axe-core on each."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from hems import __version__
from hems.web.sysinfo import SystemFiles, attach_system_files
from tests.web.simhome import sim_runtime
from tests.web.test_ui import axe, browser, open_app  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

RESULT = "INFO No packages found that can be upgraded unattended and no pending auto-removals"
CARD = "[data-testid=system]"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def home(tmp_path_factory):
    """hems on the simulated home on a Saturday afternoon in June."""
    async with sim_runtime(tmp_path_factory.mktemp("devices") / "data", day="2024-06-08", hour=13.0) as (runtime, url):
        yield runtime, url


def image_files(root: Path) -> SystemFiles:
    """The image's version file, unattended-upgrades installed, apt's periodic directory (its stamp
    set by ran()) and the upgrade log."""
    (root / "periodic").mkdir(parents=True, exist_ok=True)
    (root / "unattended-upgrade").touch()
    (root / "hems-image-version").write_text("2026.06.2\n")
    (root / "unattended-upgrades.log").write_text(f"2024-06-06 06:25:01,512 INFO Starting unattended upgrades script\n"
                                                   f"2024-06-06 06:25:07,031 {RESULT}\n")
    return SystemFiles(image_version=root / "hems-image-version",
                       security_stamp=root / "periodic" / "unattended-upgrades-stamp",
                       security_log=root / "unattended-upgrades.log", security_program=root / "unattended-upgrade")


def ran(files: SystemFiles, runtime, ago: timedelta):
    """Touch the stamp as apt does after a run, `ago` before hems's (simulated) now; that time, local."""
    at = runtime.clock.now() - ago
    files.security_stamp.touch()
    os.utime(files.security_stamp, (at.timestamp(), at.timestamp()))
    return at.astimezone(runtime.agent.settings.timezone)


async def test_system_card_shows_the_last_security_run_and_warns_when_old(browser, home, tmp_path):
    runtime, url = home
    files = image_files(tmp_path)
    local = ran(files, runtime, timedelta(days=2, hours=1))
    attach_system_files(runtime.web_app, files)

    page = await open_app(browser, url, path="devices")
    await page.wait_for_selector(f"{CARD} [data-testid=security-last-run]:has-text('2 days ago')")
    assert await page.text_content(f"{CARD} h2") == "System"
    assert await page.text_content(f"{CARD} [data-testid=hems-version] span:last-child") == __version__
    assert await page.text_content(f"{CARD} [data-testid=image-version] span:last-child") == "2026.06.2"
    assert await page.text_content(f"{CARD} [data-testid=security-state] span:last-child") == "on"
    last = await page.text_content(f"{CARD} [data-testid=security-last-run] span:last-child")
    assert last == f"2 days ago · {local:%a} {local.day} {local:%b %H:%M}", last
    assert await page.text_content(f"{CARD} [data-testid=security-result] span:last-child") == RESULT
    assert await page.query_selector(f"{CARD} [data-testid=security-warning]") is None
    assert await axe(page) == []

    # the last run is now 5 days old: the page's next refresh says so, in the warning style
    ran(files, runtime, timedelta(days=5, hours=2))
    warning = await page.wait_for_selector(f"{CARD} .banner.warn[data-testid=security-warning]")
    assert await warning.text_content() == "Security updates have not run for 5 days."
    assert await axe(page) == []
    assert not page.errors, page.errors
    await page.context.close()

    # in German and the dark theme on a desktop: the same warning, its contrast checked
    page = await open_app(browser, url, phone=False, dark=True, lang="de", path="devices")
    warning = await page.wait_for_selector(f"{CARD} [data-testid=security-warning]")
    assert await warning.text_content() == "Sicherheitsupdates sind seit 5 Tagen nicht gelaufen."
    assert "vor 5 Tagen" in await page.text_content(f"{CARD} [data-testid=security-last-run]")
    assert await axe(page) == []
    assert not page.errors, page.errors
    await page.context.close()


async def test_system_card_when_on_but_never_run_and_off_the_image(browser, home, tmp_path):
    runtime, url = home
    attach_system_files(runtime.web_app, image_files(tmp_path))          # apt's directory, no stamp yet
    page = await open_app(browser, url, path="devices")
    warning = await page.wait_for_selector(f"{CARD} [data-testid=security-warning]")
    assert await warning.text_content() == "Security updates are on but have never run."
    assert await page.text_content(f"{CARD} [data-testid=security-last-run] span:last-child") == "never"

    # not on the image (a Debian without unattended-upgrades): the operating system looks after updates
    attach_system_files(runtime.web_app, SystemFiles(image_version=tmp_path / "absent",
                                                      security_stamp=tmp_path / "periodic" / "stamp",
                                                      security_log=tmp_path / "absent.log",
                                                      security_program=tmp_path / "absent" / "unattended-upgrade"))
    state = await page.wait_for_selector(f"{CARD} [data-testid=security-state]:has-text('managed by the operating system')")
    assert await state.text_content() == "Security updatesmanaged by the operating system"
    assert await page.query_selector(f"{CARD} [data-testid=security-warning]") is None
    assert await page.query_selector(f"{CARD} [data-testid=image-version]") is None
    assert await page.query_selector(f"{CARD} [data-testid=security-last-run]") is None
    assert await axe(page) == []
    assert not page.errors, page.errors
    await page.context.close()

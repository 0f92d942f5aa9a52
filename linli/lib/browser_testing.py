"""Browser tests: a live server and Playwright driving Debian's headless Chromium.

`playwright install` cannot download browsers here, so the system's chromium is used.
Test modules subclass BrowserTestCase and fill the database in `setUp` (before calling
super), usually with linli.test.BaseTestCase.build_world.
"""

from __future__ import annotations

import os
import shutil
from typing import ClassVar

from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PHONE = {"width": 360, "height": 740}


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


class BrowserTestCase(StaticLiveServerTestCase):
    """A live server on 127.0.0.1, one browser per class, a fresh context per test."""

    host = "127.0.0.1"
    viewport: ClassVar[dict[str, int]] = PHONE
    playwright: Playwright
    browser: Browser

    @classmethod
    def setUpClass(cls) -> None:
        # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
        # test itself are still synchronous, so Django's async guard does not apply here.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        super().setUpClass()
        cls.playwright = sync_playwright().start()
        cls.browser = launch(cls.playwright)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    def setUp(self) -> None:
        self.context = self.browser.new_context(viewport=self.viewport, locale="zh-CN")  # type: ignore[arg-type]
        self.page = self.context.new_page()

    def tearDown(self) -> None:
        self.context.close()

    def log_in(self, username: str, password: str, *, shown_as: str | None = None) -> None:
        """Sign in through the login page; the top bar then names the user."""
        page = self.page
        page.goto(f"{self.live_server_url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        expect(page.locator(".who")).to_contain_text(shown_as or username)

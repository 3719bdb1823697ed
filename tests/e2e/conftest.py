"""Real-browser fixtures: the real app (``app_server.serve_demo``) and Debian's Chromium via Playwright.

One server with the demo data runs for the whole e2e session. Each person a test makes gets their own
browser context (their own cookies) at phone size, 390 × 844.

Without /usr/bin/chromium (``apt-get install chromium``; ``ALSCARE_CHROMIUM`` names another binary) the e2e
tests are skipped, unless ``ALSCARE_REQUIRE_BROWSER=1`` (then they fail). Playwright's own browser download
is never used. axe-core comes from npm (see ``axe.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from app_server import Server, serve_demo
from axe import AxeUnavailable, axe_source
from keyboard import KeyboardUser
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Playwright, sync_playwright

CHROMIUM = Path(os.environ.get("ALSCARE_CHROMIUM") or "/usr/bin/chromium")  # Debian's package
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # this machine's network is closed: no calls home
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    """Skip, or fail when the run says a browser is required (CI)."""
    if os.environ.get("ALSCARE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ALSCARE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and item.get_closest_marker("e2e") is None:
            raise pytest.UsageError(f"{item.nodeid}: every test in tests/e2e must be marked @pytest.mark.e2e")


@pytest.fixture(scope="session")
def _browser_tools() -> None:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    try:
        axe_source()
    except AxeUnavailable as e:
        _unavailable(str(e))


@pytest.fixture(scope="session")
def server(_browser_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve_demo(tmp_path_factory.mktemp("e2e-data")) as running:
        yield running


@pytest.fixture(scope="session")
def playwright(_browser_tools: None) -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_person(browser: Browser, server: Server) -> Iterator[Callable[[str], KeyboardUser]]:
    """Make a person at a phone-sized browser, each with their own cookies: ``new_person("flow-name")``.

    The page's Content Security Policy stays enforced (no ``bypass_csp``); violations it reports fail the
    page check.
    """
    contexts: list[BrowserContext] = []

    def make(flow: str) -> KeyboardUser:
        context = browser.new_context(viewport=PHONE, base_url=server.base_url, locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        user = KeyboardUser(page=page, flow=flow)

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                user.csp_violations.append(message.text)

        page.on("console", on_console)
        return user

    yield make
    for context in contexts:
        context.close()

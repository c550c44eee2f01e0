"""Playwright driving Debian's Chromium (/usr/bin/chromium, or PLEIN_CHROMIUM) against real server processes.

Without the binary the browser tests are skipped, except under CI=true, where they fail: CI must
prove that the pages work in a real browser.
"""
from __future__ import annotations

import os
import re

import pytest

from support import CHROMIUM, LAPTOP

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


FUNCTION = re.compile(r"^\s*(async\s+)?(function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)")


def _wait_for_functions_under_csp() -> None:
    """The pages' Content-Security-Policy has no 'unsafe-eval'. Playwright polls a bare expression given to
    `wait_for_function` with eval() in the page, which the policy refuses (an EvalError as soon as the
    condition is not true at once); a function it calls directly. So every bare expression becomes one."""
    from playwright.sync_api import Page
    original = Page.wait_for_function
    if getattr(original, "csp_safe", False):
        return

    def wait_for_function(self, expression, *args, **kwargs):
        if not FUNCTION.match(expression):
            expression = f"() => ({expression})"
        return original(self, expression, *args, **kwargs)

    wait_for_function.csp_safe = True
    Page.wait_for_function = wait_for_function


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set PLEIN_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    _wait_for_functions_under_csp()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class PageWatch:
    """A page plus every console error and uncaught exception it produced."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture(autouse=True, scope="session")
def _real_iframe_api(jitsi_build):
    """Every browser test runs on Jitsi's real IFrame API (built once, see tests/fake_jitsi.py)."""


@pytest.fixture(scope="session")
def axe():
    """axe.check(page, what): fail on serious or critical WCAG 2.1 A/AA violations (tests/browser/axe.py).
    axe-core is installed from web/package-lock.json when missing; without npm: skipped, except under CI=true."""
    import axe as axe_module
    problem = axe_module.ensure_axe()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return axe_module


@pytest.fixture
def new_page(browser):
    """Factory: new_page(viewport=LAPTOP, locale="nl-NL") -> PageWatch in a fresh context (own cookies).
    HTTPS errors are ignored: the loopback Jitsi's certificate is made at test time."""
    contexts = []

    def make(viewport=LAPTOP, locale="nl-NL", **kwargs) -> PageWatch:
        kwargs.setdefault("ignore_https_errors", True)
        ctx = browser.new_context(viewport=viewport, locale=locale, **kwargs)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return PageWatch(ctx.new_page())

    yield make
    for ctx in contexts:
        ctx.close()

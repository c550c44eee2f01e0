"""A live page in Chromium whose own connection drops while Redis is away (a redis-server of the test's own)."""
from __future__ import annotations

import time

import pytest

from own_redis import OwnRedis
from support import ServerProcess, SLUG, join_to_choose

pytestmark = pytest.mark.browser


@pytest.fixture
def loopback_jitsi(request):
    """The conftest's loopback Jitsi for the page's external_api.js, whichever of its names this checkout has."""
    for name in ("fake_jitsi", "standin_jitsi"):
        try:
            return request.getfixturevalue(name)
        except pytest.FixtureLookupError:
            pass
    pytest.fail("no loopback Jitsi fixture in tests/conftest.py")


@pytest.mark.timeout(90)
def test_a_page_that_reconnects_while_redis_is_away_tries_again_and_follows_the_clock(tmp_path, loopback_jitsi,
                                                                                      new_page):
    """The server refuses the page's new connection with `redis_down` (before: it was accepted without a state
    or Socket.IO rooms, so the page missed every push after). The page keeps trying and follows the next advance."""
    store = OwnRedis(tmp_path / "redis", persist=True).start()
    server = ServerProcess(store.url, tmp=tmp_path, jitsi=loopback_jitsi).start()
    try:
        watch = new_page()
        page = join_to_choose(watch.page, server, "Robin")
        page.locator("#choose-later").click()
        page.wait_for_url(f"**/e/{SLUG}/live")
        server.clock("start")
        page.wait_for_function("window.plein && window.plein.state && window.plein.state.phase")

        store.stop(kill=True)
        page.evaluate("window.plein.socket.disconnect(); window.plein.socket.connect()")
        page.locator("#conn-banner").wait_for(state="visible")
        time.sleep(3)  # the fault: Redis stays away while the page tries again
        assert "Verbinding verbroken" in page.locator("#conn-text").inner_text()
        assert page.locator("#conn-link").is_hidden()  # not told it was refused for good
        store.start()

        deadline = time.monotonic() + 10
        while (resp := server.clock("advance")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert resp.json()["phase"]["id"] == "pauze-1700"
        page.wait_for_function("window.plein.state.phase && window.plein.state.phase.id === 'pauze-1700'",
                               timeout=10_000)
        page.locator("#conn-banner").wait_for(state="hidden")
        refused = ("WebSocket connection to ", "Failed to load resource")
        assert [e for e in watch.errors if not e.startswith(refused)] == []
    finally:
        server.stop()
        store.stop()

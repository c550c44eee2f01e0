"""The Content-Security-Policy and the moderator link in a real Chromium (issue 9, items 12 and 13).

Every page here records each `securitypolicyviolation` from the first script on (an init script, which
the policy does not govern), so a resource the policy blocks shows up even if the page copes with it.
"""
from __future__ import annotations

import pytest

from support import MODERATOR_KEY, SLUG, join_to_choose

pytestmark = pytest.mark.browser

RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.effectiveDirective} ${e.blockedURI}`));
"""


def recording(watch):
    watch.page.add_init_script(RECORD)
    return watch.page


def test_the_live_page_runs_under_the_policy_without_a_violation(server, new_page):
    watch = new_page()
    page = recording(watch)
    join_to_choose(page, server, "Anna")
    page.locator("#choose-later").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    server.clock("start")
    page.wait_for_function("() => window.plein && window.plein.roomName")  # external_api.js loaded, room open
    assert page.evaluate("window.__csp") == []
    # The policy is in force: an injected inline script is refused.
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.__ran = true"; document.body.append(s); }""")
    page.wait_for_function("() => window.__csp.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert [v.split()[0] for v in page.evaluate("window.__csp")] == ["script-src-elem"]
    assert [e for e in watch.errors if "Content Security Policy" not in e] == []


def test_the_moderator_link_signs_in_from_the_fragment_and_leaves_the_address_bar(server, new_page):
    watch = new_page()
    page = recording(watch)
    page.goto(f"{server.url}/e/{SLUG}/moderator#key={MODERATOR_KEY}")
    page.wait_for_function("() => window.plein && window.plein.console && window.plein.connected")
    assert MODERATOR_KEY not in page.url and page.url.endswith(f"/e/{SLUG}/moderator")
    # The link the console shows to share is the fragment form too.
    assert page.input_value("#moderator-link").endswith(f"/moderator#key={MODERATOR_KEY}")
    # Opened again in another tab while signed in: the key leaves the address bar as well.
    again = page.context.new_page()
    again.add_init_script(RECORD)
    again.goto(f"{server.url}/e/{SLUG}/moderator#key={MODERATOR_KEY}")
    again.wait_for_function("() => window.plein && window.plein.console")
    assert MODERATOR_KEY not in again.url
    assert page.evaluate("window.__csp") == [] and again.evaluate("window.__csp") == []
    assert watch.errors == []


def test_a_wrong_key_in_the_fragment_shows_the_form_with_the_error(server, new_page):
    watch = new_page()
    page = recording(watch)
    page.goto(f"{server.url}/e/{SLUG}/moderator#key=not-the-key")
    page.locator("#key-error").wait_for()
    assert "not-the-key" not in page.url
    assert page.evaluate("window.__csp") == []
    assert [e for e in watch.errors if "403" not in e] == []  # the refused sign-in answers 403


def test_a_personal_link_signs_in_from_the_fragment(server, new_page, r):
    from rooms.program import load_program
    from rooms.registrations import import_registrations, parse_registrations
    from support import SEED
    program = load_program(SEED)
    rows, _ = parse_registrations("name,email\nAnna de Vries,anna@example.org\n", program)
    link = import_registrations(r, program, rows, server.url).imported[0].link
    token = link.rsplit("#", 1)[1]
    assert link == f"{server.url}/e/{SLUG}/p#{token}"
    watch = new_page()
    page = recording(watch)
    page.goto(link)
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("() => window.plein && window.plein.state")
    assert "Anna de Vries" in page.locator("#you-are").inner_text()
    assert page.evaluate("window.__csp") == [] and watch.errors == []
    # Without a token (a link cut short) the page says so instead of sending an empty form.
    cut = new_page()
    recording(cut).goto(f"{server.url}/e/{SLUG}/p")
    cut.page.locator("#link-missing").wait_for()
    assert cut.page.locator("#link-form").is_hidden() and cut.errors == []

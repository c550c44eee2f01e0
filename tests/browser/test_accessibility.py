"""axe-core on every page at 1280 and 390 px: no serious or critical WCAG 2.0/2.1 A or AA violation.

One server and one browser for the module. The evening moves forward as the pages need it: Anna chose the
brainstorm of round I (she writes notes and adds an idea card, Bert votes on it), Bert a talk; the round, the
break after it, the opening plenary and the closing plenary with the yield are each looked at on their pages;
the console while Bert's help request waits. Each state is made when first asked for, so any one test also
runs alone (`-k`). Each page is checked at both widths on the same page, the viewport resized in between.
"""
from __future__ import annotations

import pytest
import redis
import requests

from support import LAPTOP, MODERATOR_KEY, PHONE, SLUG, ServerProcess, join_to_choose, shot

pytestmark = pytest.mark.browser

BRAINSTORM, TALK = "cooperatieve-tech", "toekomst-wooncooperatie"
SYNC = 10_000  # ms
IDEA = "Een gedeelde server voor alle coöperaties"


class Evening:
    """The module's one server and the pages on it; `page(state)` brings a page into that state."""

    def __init__(self, server: ServerProcess, browser):
        self.server, self.browser = server, browser
        self.contexts, self.pages = [], {}
        phases = requests.get(server.api(""), timeout=5).json()["phases"]
        after_round = next(i for i, p in enumerate(phases) if p["id"] == "ronde-1") + 1
        self.break_id = phases[after_round]["id"]
        assert phases[after_round]["kind"] == "break"

    def new_page(self):
        ctx = self.browser.new_context(viewport=LAPTOP, locale="nl-NL", ignore_https_errors=True)
        ctx.set_default_timeout(SYNC)
        self.contexts.append(ctx)
        return ctx.new_page()

    def close(self):
        for ctx in self.contexts:
            ctx.close()

    def page(self, state: str):
        if state not in self.pages:
            self.pages[state] = getattr(self, "make_" + state.replace("-", "_"))()
        return self.pages[state]

    def phase(self, phase_id: str):
        """The clock on this phase (jumped to when it is not running)."""
        now = requests.get(self.server.api("/state"), timeout=5).json()
        if (now.get("phase") or {}).get("id") != phase_id:
            resp = self.server.call("POST", "/clock", {"action": "jump", "phase": phase_id})
            assert resp.status_code == 200, resp.text
        for name in ("anna", "bert"):
            if name in self.pages:
                self.pages[name].wait_for_function(
                    "id => window.plein.state && window.plein.state.phase && window.plein.state.phase.id === id",
                    arg=phase_id, timeout=SYNC)

    # -- the participants, signed up once --------------------------------------------------------------------

    def make_anna(self):
        page = join_to_choose(self.new_page(), self.server, "Anna de Vries")
        page.check(f"#opt-ronde-1-{BRAINSTORM}")
        page.locator("#choose-save").click()
        page.wait_for_url(f"**/e/{SLUG}/live")
        page.wait_for_function("window.plein && window.plein.state")
        return page

    def make_bert(self):
        page = join_to_choose(self.new_page(), self.server, "Bert Jansen")
        page.check(f"#opt-ronde-1-{TALK}")
        page.locator("#choose-save").click()
        page.wait_for_url(f"**/e/{SLUG}/live")
        page.wait_for_function("window.plein && window.plein.state")
        return page

    # -- the states -------------------------------------------------------------------------------------------

    def make_event_error(self):
        page = self.new_page()
        page.goto(f"{self.server.url}/e/{SLUG}")
        page.locator("form[action$='/join'] button[type=submit]").click()  # no name: refused, said on the page
        page.locator("#name-error").wait_for()
        return page

    def make_choose(self):
        return join_to_choose(self.new_page(), self.server, "Carla Smit")

    def make_live_waiting(self):
        return self.page("anna")

    def make_round_brainstorm(self):
        anna, bert = self.page("anna"), self.page("bert")
        self.phase("ronde-1")
        anna.wait_for_function("() => { const n = window.plein.notes && window.plein.notes.note;"
                               " return n && n.synced && !n.readonly; }", timeout=SYNC)
        # More lines than the editor shows, so that it scrolls.
        anna.locator("#notes .cm-content").click()
        anna.keyboard.insert_text("\n".join(f"Punt {i}: samen een coöperatieve server beheren." for i in range(40)))
        anna.fill("#cards-text", IDEA)
        anna.locator("#cards-add").click()
        anna.locator("#cards-list .card-item", has_text=IDEA).wait_for(timeout=SYNC)
        anna.fill("#cards-text", "Een coöperatieve app-winkel")
        anna.locator("#cards-add").click()
        anna.locator("#cards-list .card-item").nth(1).wait_for(timeout=SYNC)
        anna.locator("#cards-list .card-item", has_text=IDEA).locator("[data-do=vote]").click()
        anna.locator("#cards-list .card-item [aria-pressed=true]").wait_for(timeout=SYNC)
        return anna

    def make_round_talk(self):
        self.page("round-brainstorm")
        bert = self.page("bert")
        bert.wait_for_function("window.plein.roomName && window.plein.roomName.includes('-toekomst-wooncooperatie-')")
        return bert

    def make_console(self):
        self.page("round-talk")
        bert = self.page("bert")
        if bert.locator("#help-send").is_hidden():
            bert.locator("#help-open").click()
            bert.fill("#help-text", "Ik hoor de anderen niet.")
            bert.locator("#help-send").click()
            bert.locator("#help-status-text").wait_for()
        for _ in range(12):  # enough lines in the audit log that it scrolls
            assert self.server.clock("extend", minutes=1).status_code == 200
        page = self.new_page()
        page.goto(f"{self.server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
        page.wait_for_function("window.plein && window.plein.console && window.plein.connected")
        page.locator("#help-list .help-item").wait_for(timeout=SYNC)
        page.wait_for_function("document.querySelectorAll('#audit-list .audit__entry').length > 12", timeout=SYNC)
        page.wait_for_function("document.querySelectorAll('.room').length > 1", timeout=SYNC)
        return page

    def make_break(self):
        self.page("console")
        self.phase(self.break_id)
        return self.page("anna")

    def make_plenary(self):
        self.page("break")
        self.phase("opening")
        return self.page("anna")

    def make_closing(self):
        self.page("plenary")
        self.phase("afsluiting")
        anna = self.page("anna")
        anna.locator("#yield").wait_for(timeout=SYNC)
        anna.locator(f"#yield [data-session={BRAINSTORM}] .yield__cards li").first.wait_for(timeout=SYNC)
        return anna

    def make_moderator_login(self):
        page = self.new_page()
        page.goto(f"{self.server.url}/e/{SLUG}/moderator?key=wrong-key")  # the form, with the refusal on it
        page.locator("form").first.wait_for()
        return page

    def make_invite(self):
        page = self.new_page()
        page.goto(f"{self.server.url}/e/{SLUG}/invite")
        return page

    def make_personal_link(self):
        page = self.new_page()
        page.goto(f"{self.server.url}/e/{SLUG}/p")
        return page

    def make_not_found(self):
        page = self.new_page()
        resp = page.goto(f"{self.server.url}/e/{SLUG}/nergens")
        assert resp.status == 404
        return page

    def make_docs(self):
        page = self.new_page()
        page.goto(f"{self.server.url}/docs/deploy")
        return page


STATES = ["event-error", "choose", "live-waiting", "round-brainstorm", "round-talk", "console", "break", "plenary",
          "closing", "moderator-login", "invite", "personal-link", "not-found", "docs"]


@pytest.fixture(scope="module")
def evening(browser, axe, redis_url, fake_jitsi_server, tmp_path_factory):
    """One server on the seed evening, clock waiting for the moderator, on a flushed test database."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    fake_jitsi_server.reset()
    server = ServerProcess(redis_url, tmp=tmp_path_factory.mktemp("axe"), jitsi=fake_jitsi_server).start()
    ev = Evening(server, browser)
    yield ev
    ev.close()
    server.stop()


@pytest.mark.parametrize("width", [LAPTOP["width"], PHONE["width"]], ids=["1280", "390"])
@pytest.mark.parametrize("state", STATES)
def test_no_serious_violations(evening, axe, state, width):
    page = evening.page(state)
    page.set_viewport_size(LAPTOP if width == LAPTOP["width"] else PHONE)
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    shot(page, f"axe-{state}-{width}")  # test-artifacts/: what axe looked at
    axe.check(page, state)

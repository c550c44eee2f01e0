"""Hardening (issue 9, items 12 and 14): forged cross-site writes, security headers, deep JSON, page config.

In process (Flask test client) on the real test Redis. The test client sends `Origin: http://localhost`
like a browser on our own page (support.page_client_class); a forged request passes another one.
"""
from __future__ import annotations

import json
import re

import pytest

from support import MODERATOR_KEY, SLUG, participant, redis_snapshot

pytestmark = pytest.mark.redis

API = f"/api/events/{SLUG}"
MOD = {"Authorization": f"Bearer {MODERATOR_KEY}"}
EVIL = "https://evil.example"
SAME_SITE = "http://evil.localhost"  # another origin on the same site as http://localhost


def moderator(app):
    """A test client signed in as a moderator by cookie (the moderator link)."""
    c = app.test_client()
    assert c.get(f"/e/{SLUG}/moderator?key={MODERATOR_KEY}").status_code == 303
    return c


def refused(resp):
    assert resp.status_code == 403, resp.get_data(as_text=True)[:300]
    if resp.is_json:
        assert resp.get_json()["error"]["code"] == "cross_site"
    else:  # a page: the error page in the visitor's language
        assert "niet van een pagina van deze avond" in resp.get_data(as_text=True)


# -- 12: forged writes --------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", [EVIL, SAME_SITE, "null"])
def test_a_join_form_posted_by_another_page_signs_nobody_in(app, r, origin):
    """Login CSRF: a foreign page's form would have signed the visitor in as the attacker's participant."""
    c = app.test_client()
    before = redis_snapshot(r)
    resp = c.post(f"/e/{SLUG}/join", data={"name": "Aanvaller"}, headers={"Origin": origin})
    refused(resp)
    assert "Set-Cookie" not in resp.headers
    assert redis_snapshot(r) == before


def test_the_join_form_on_our_own_page_still_signs_in(app):
    c = app.test_client()
    resp = c.post(f"/e/{SLUG}/join", data={"name": "Anna"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/live")
    assert c.get(API + "/participants/me").get_json()["name"] == "Anna"


def test_a_referer_of_our_own_page_stands_in_for_a_missing_origin(app):
    c = app.test_client()
    resp = c.post(f"/e/{SLUG}/join", data={"name": "Anna"},
                  headers={"Origin": "", "Referer": f"http://localhost/e/{SLUG}"})
    assert resp.status_code == 303
    refused(c.post(f"/e/{SLUG}/join", data={"name": "Bert"}, headers={"Origin": "", "Referer": f"{EVIL}/x"}))


@pytest.mark.parametrize("origin", [EVIL, SAME_SITE])
@pytest.mark.parametrize("path", ["/moderator-key/rotate", "/help/<id>/done", "/jitsi-check"])
def test_a_text_plain_form_cannot_ride_on_the_moderator_cookie(app, r, path, origin):
    """The body-less moderator POSTs took any body, so a form with enctype=text/plain could fire them."""
    ev = app.extensions["plein"]
    anna = participant(app, "Anna")
    help_id = anna.post(API + "/participants/me/help", json={"text": "Geen geluid"}).get_json()["id"]
    mod = moderator(app)
    before = redis_snapshot(r)
    resp = mod.post(API + path.replace("<id>", help_id), data="x=y", content_type="text/plain",
                    headers={"Origin": origin})
    refused(resp)
    assert redis_snapshot(r) == before
    assert ev.is_moderator_key(MODERATOR_KEY)
    # The same request from the moderator page goes through (rotate: 409, the key is in the configuration).
    resp = mod.post(API + path.replace("<id>", help_id))
    assert resp.status_code in (200, 409) and resp.get_json().get("error", {}).get("code") in (None, "key_configured")


def test_a_cookie_without_origin_or_referer_is_refused_but_a_bearer_token_is_not(app, r):
    mod = moderator(app)
    before = redis_snapshot(r)
    refused(mod.post(API + "/clock", json={"action": "start"}, headers={"Origin": ""}))
    assert redis_snapshot(r) == before
    # A program with the key as bearer token (no cookie, no Origin) is not a browser: as before.
    bare = app.test_client()
    resp = bare.post(API + "/clock", json={"action": "start"}, headers={**MOD, "Origin": ""})
    assert resp.status_code == 200, resp.get_json()
    # A sign-up without any cookie (curl, a script) also stays possible.
    assert bare.post(API + "/participants", json={"name": "Script"}, headers={"Origin": ""}).status_code == 201


def test_basic_credentials_do_not_count_as_a_bearer_token(app):
    """A browser attaches Basic credentials by itself (a staging site behind a password): no exemption."""
    mod = moderator(app)
    refused(mod.post(API + "/jitsi-check", headers={"Origin": EVIL, "Authorization": "Basic dXNlcjpwYXNz"}))


def test_the_public_url_and_cors_origins_are_our_own(make_app):
    app = make_app(PLEIN_PUBLIC_URL="https://plein.example.org/", PLEIN_CORS_ORIGINS=["https://studio.example.org"])
    for origin in ("https://plein.example.org", "https://studio.example.org"):
        c = app.test_client()
        assert c.post(f"/e/{SLUG}/join", data={"name": "Anna"}, headers={"Origin": origin}).status_code == 303
    # TLS ending at a proxy that keeps Host: the browser's https origin matches the http request's host.
    c = app.test_client()
    assert c.post(f"/e/{SLUG}/join", data={"name": "Bert"}, headers={"Origin": "https://localhost"}).status_code == 303


def test_a_moderator_sign_in_form_from_another_site_is_refused(app):
    c = app.test_client()
    resp = c.post(f"/e/{SLUG}/moderator", data={"key": MODERATOR_KEY}, headers={"Origin": EVIL})
    refused(resp)
    assert "Set-Cookie" not in resp.headers


def test_two_hundred_sign_ups_from_one_hall(make_app):
    """One address, 200 browsers: the origin check keeps no state and limits nothing. (The sign-up rate
    limit per address is a limit of its own, switched off here: this sends the 200 in a burst.)"""
    app = make_app(PLEIN_RATE_LIMITS=False)
    for i in range(200):
        c = app.test_client()
        resp = c.post(f"/e/{SLUG}/join", data={"name": f"Deelnemer {i}"}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:200]
    assert app.extensions["plein"].participants.count() == 200


# -- 12: headers ------------------------------------------------------------------------------------

def csp(resp) -> dict[str, list[str]]:
    policy = resp.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in policy.split(";")) if d}


@pytest.mark.parametrize("path", [f"/e/{SLUG}", f"/e/{SLUG}/moderator", API + "/state", "/static/live.js"])
def test_every_response_has_the_security_headers(client, path):
    with client.get(path) as resp:  # `with`: a static file's response holds the file open
        pass
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"
    policy = csp(resp)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]


def test_the_policy_allows_scripts_and_frames_only_from_us_and_the_jitsi_deployment(client):
    policy = csp(client.get(f"/e/{SLUG}"))  # JITSI_DOMAIN meet.example.org, the default script URL
    assert policy["script-src"] == ["'self'", "https://meet.example.org"]
    assert policy["frame-src"] == ["https://meet.example.org"]
    assert policy["connect-src"] == ["'self'", "ws://localhost", "wss://localhost"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


def test_the_policy_follows_a_jaas_deployment(make_app):
    app = make_app(JITSI_DOMAIN="8x8.vc", JITSI_EXTERNAL_API_URL="https://8x8.vc/vpaas-magic-cookie-abc/external_api.js")
    policy = csp(app.test_client().get(f"/e/{SLUG}"))
    assert policy["script-src"] == ["'self'", "https://8x8.vc"]
    assert policy["frame-src"] == ["https://8x8.vc"]


def test_a_script_served_elsewhere_than_the_rooms_is_allowed_to_frame_too(make_app):
    """The test stand-in (and a deployment serving external_api.js from another origin): both allowed."""
    app = make_app(JITSI_DOMAIN="127.0.0.1:8443", JITSI_EXTERNAL_API_URL="http://127.0.0.1:9000/external_api.js")
    policy = csp(app.test_client().get(f"/e/{SLUG}"))
    assert policy["script-src"] == ["'self'", "http://127.0.0.1:9000"]
    assert policy["frame-src"] == ["https://127.0.0.1:8443", "http://127.0.0.1:9000"]


def test_a_forged_host_header_cannot_add_directives(client):
    policy = client.get(f"/e/{SLUG}", headers={"Host": "x; script-src *"}).headers.get("Content-Security-Policy", "")
    assert "script-src *" not in policy


# -- 14: deeply nested JSON -------------------------------------------------------------------------

DEEP = "[" * 20_000 + "]" * 20_000  # 40 KB, under the 64 KiB body limit
ONE_TOO_DEEP = json.dumps({"action": "extend", "minutes": json.loads("[" * 40 + "]" * 40)})

JSON_ENDPOINTS = [  # every endpoint that reads a JSON body: (method, path, as whom)
    ("post", "/participants", None),
    ("put", "/participants/me/choices", "participant"),
    ("post", "/participants/me/help", "participant"),
    ("post", "/rounds/in-beeld/lock", "moderator"),
    ("post", "/clock", "moderator"),
    ("post", "/broadcasts", "moderator"),
    ("post", "/participants/<pid>/move", "moderator"),
    ("post", "/participants/<pid>/host", "moderator"),
    ("put", "/signup", "moderator"),
    ("post", "/help/<id>/answer", "moderator"),
    ("put", "/moderators/me", "moderator-cookie"),
]


@pytest.mark.parametrize("body", [DEEP, ONE_TOO_DEEP], ids=["20000-deep", "41-deep"])
@pytest.mark.parametrize("method,path,who", JSON_ENDPOINTS, ids=[p for _, p, _ in JSON_ENDPOINTS])
def test_deeply_nested_json_is_a_coded_400(app, r, method, path, who, body):
    anna = participant(app, "Anna")
    pid = anna.get(API + "/participants/me").get_json()["id"]
    help_id = anna.post(API + "/participants/me/help", json={"text": "Hulp"}).get_json()["id"]
    c = {"participant": anna, "moderator-cookie": moderator(app)}.get(who) or app.test_client()
    headers = MOD if who == "moderator" else {}
    before = redis_snapshot(r)
    resp = getattr(c, method)(API + path.replace("<pid>", pid).replace("<id>", help_id), data=body,
                              content_type="application/json", headers=headers)
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["error"]["code"] == "json_too_deep"
    assert "Traceback" not in resp.get_data(as_text=True)
    assert redis_snapshot(r) == before


def test_ordinary_nesting_is_untouched(app):
    anna = participant(app, "Anna")
    resp = anna.put(API + "/participants/me/choices", json={"in-beeld": "wonen-energie"})
    assert resp.status_code == 200, resp.get_json()


# -- 14: a name that broke its owner's page config ---------------------------------------------------

CONFIG_RE = re.compile(r'<script type="application/json" id="plein-config">(.*?)</script>', re.S)


@pytest.mark.parametrize("page", ["live", "choose"])
@pytest.mark.parametrize("name", ["<!--<script>", "</script><script>alert(1)</script>", "a]]>&amp;'\"<b>"])
def test_any_name_stays_inside_the_page_config(app, page, name):
    c = app.test_client()
    assert c.post(f"/e/{SLUG}/join", data={"name": name}).status_code == 303
    html = c.get(f"/e/{SLUG}/{page}").get_data(as_text=True)
    blocks = CONFIG_RE.findall(html)
    assert len(blocks) == 1
    raw = blocks[0]
    # Nothing in it that an HTML parser could read as markup: `<!--<script>` used to switch the
    # tokenizer into the "double escaped" state, so the block ran on past its </script>.
    assert "<" not in raw and ">" not in raw
    assert json.loads(raw)["participant"]["name"] == name


# -- 13: the personal link's token in the fragment ---------------------------------------------------

def test_a_personal_link_signs_in_by_a_form_post_from_its_own_page(app):
    _, token = app.extensions["plein"].sign_up("Anna")
    c = app.test_client()
    page = c.get(f"/e/{SLUG}/p")  # what the browser asks for `/p#<token>`: no token in the request
    assert page.status_code == 200 and 'name="token"' in page.get_data(as_text=True)
    resp = c.post(f"/e/{SLUG}/p", data={"token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/e/{SLUG}/live")
    assert c.get(API + "/participants/me").get_json()["name"] == "Anna"
    assert app.test_client().post(f"/e/{SLUG}/p", data={"token": "not-a-token"}).status_code == 404
    assert app.test_client().post(f"/e/{SLUG}/p", data={}).status_code == 404


def test_a_foreign_page_cannot_sign_a_visitor_in_with_a_personal_link(app, r):
    _, token = app.extensions["plein"].sign_up("Aanvaller")
    c = app.test_client()
    resp = c.post(f"/e/{SLUG}/p", data={"token": token}, headers={"Origin": EVIL})
    refused(resp)
    assert "Set-Cookie" not in resp.headers
    assert c.get(API + "/participants/me").status_code == 401

"""The three Jitsi modes: open (no tokens), self-hosted with HS256 tokens, JaaS (8x8.vc, RS256 with kid);
what each puts in the rooms and the pages, and `plein jitsi check` against a loopback server."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support import CONSOLE_PROGRAM, MODERATOR_KEY, ROOT, SLUG, participant

API = f"/api/events/{SLUG}"
MOD = {"Authorization": f"Bearer {MODERATOR_KEY}"}
APP_ID = "vpaas-magic-cookie-0123456789abcdef0123456789abcdef"
KEY_ID = f"{APP_ID}/4f4910"
HS_SECRET = "jitsi-app-secret-for-tests-0123456789"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def pem_file(rsa_key, tmp_path):
    path = tmp_path / "jaas-private.pem"
    path.write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return path


def jaas_config(pem_file, **extra) -> dict:
    return {"PLEIN_PROGRAM": str(CONSOLE_PROGRAM), "JITSI_JAAS_APP_ID": APP_ID, "JITSI_JAAS_KEY_ID": KEY_ID,
            "JITSI_JAAS_PRIVATE_KEY_FILE": str(pem_file), **extra}


def running(app, *names):
    clients = [participant(app, name) for name in names]
    ev = app.extensions["plein"]
    ev.clock.act("start")
    ev.due()
    return clients


def test_jaas_rooms_tokens_and_pages(make_app, pem_file, rsa_key):
    app = make_app(**jaas_config(pem_file, JITSI_ROOM_SIZE_URL="https://8x8.vc/room-size"))
    ev = app.extensions["plein"]
    assert ev.jitsi.mode == "jaas" and ev.sizes.enabled is False  # JaaS has no room-size endpoint to poll
    hanna, gast = running(app, "Hanna", "Gast")
    hanna.get(f"/e/{SLUG}/host/zaal-2/{ev.host_token('zaal-2')}")
    public = rsa_key.public_key()
    now = time.time()

    state = hanna.get(API + "/participants/me/state").get_json()
    room = state["room"]
    assert room["domain"] == "8x8.vc" and room["token_required"] is True
    assert room["jitsi_room"] == f"{APP_ID}/{room['name']}" and "/" not in room["name"]
    assert jwt.get_unverified_header(room["jwt"]) == {"alg": "RS256", "kid": KEY_ID, "typ": "JWT"}
    claims = jwt.decode(room["jwt"], public, algorithms=["RS256"], audience="jitsi", issuer="chat")
    assert claims["sub"] == APP_ID and claims["room"] == room["name"]
    assert claims["nbf"] == claims["iat"] - 30 and abs(claims["iat"] - now) < 5 and claims["exp"] > now + 3600
    assert claims["context"] == {
        "user": {"id": state["participant"]["id"] if "participant" in state else claims["context"]["user"]["id"],
                 "name": "Hanna", "moderator": "true"},
        "features": {"livestreaming": "false", "recording": "false", "transcription": "false",
                     "outbound-call": "false", "sip-outbound-call": "false"}}
    assert claims["context"]["user"]["id"] == hanna.get(API + "/participants/me").get_json()["id"]
    # Only that room's host is a moderator: not in the next room, and the guest nowhere.
    nxt = jwt.decode(state["next_room"]["jwt"], public, algorithms=["RS256"], audience="jitsi")
    assert nxt["context"]["user"]["moderator"] == "false"
    other = gast.get(API + "/participants/me/state").get_json()["room"]
    assert jwt.decode(other["jwt"], public, algorithms=["RS256"], audience="jitsi")["context"]["user"]["moderator"] == "false"
    with pytest.raises(jwt.InvalidSignatureError):  # signed with the key, nothing else
        jwt.decode(other["jwt"], rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
                   algorithms=["RS256"], audience="jitsi")

    # The page loads the AppID's own script from 8x8.vc; the private key is never in a page or an answer.
    pem = pem_file.read_text()
    secret_line = pem.splitlines()[1]
    live = hanna.get(f"/e/{SLUG}/live").get_data(as_text=True)
    assert f"https://8x8.vc/{APP_ID}/external_api.js" in live
    mod = app.test_client()
    pages = [live, hanna.get(f"/e/{SLUG}").get_data(as_text=True),
             mod.get(f"/e/{SLUG}/moderator?key={MODERATOR_KEY}", follow_redirects=True).get_data(as_text=True),
             mod.get(API + "/console", headers=MOD).get_data(as_text=True), repr(ev.jitsi)]
    assert not any(secret_line in page or "PRIVATE KEY" in page for page in pages)
    assert 'id="public-jitsi-notice"' not in live  # JaaS is no demo


def test_jaas_settings_are_all_or_nothing(make_app, pem_file, tmp_path):
    with pytest.raises(SystemExit, match="JITSI_JAAS_KEY_ID"):
        make_app(**jaas_config(pem_file, JITSI_JAAS_KEY_ID=""))
    with pytest.raises(SystemExit, match="cannot read"):
        make_app(**jaas_config(tmp_path / "missing.pem"))
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SystemExit, match="not an RSA private key"):
        make_app(**jaas_config(bad))
    with pytest.raises(SystemExit, match="vpaas-magic-cookie-"):
        make_app(**jaas_config(pem_file, JITSI_JAAS_APP_ID="my-app"))


def test_a_key_id_without_the_app_id_gets_it_in_front(make_app, pem_file):
    ev = make_app(**jaas_config(pem_file, JITSI_JAAS_KEY_ID="4f4910")).extensions["plein"]
    assert ev.jitsi.kid == KEY_ID


def test_the_console_warning_links_to_the_served_docs(client):
    page = client.get("/docs/deploy")
    assert page.status_code == 200 and 'id="jitsi-host-rights"' in page.get_data(as_text=True)
    assert client.get("/docs/nothing").status_code == 404
    assert client.get("/docs/..%2Fpyproject").status_code == 404


@pytest.mark.parametrize("domain, notice, login", [
    ("meet.jit.si", True, True), ("8x8.vc", True, False), ("meet.example.org", False, False)])
def test_open_deployments_say_what_they_are(make_app, domain, notice, login):
    app = make_app(JITSI_DOMAIN=domain)
    c = participant(app, "Anna")
    for path in (f"/e/{SLUG}", f"/e/{SLUG}/live"):
        html = re.sub(r"<script.*?</script>", "", c.get(path).get_data(as_text=True), flags=re.S)  # not the strings
        assert ('id="public-jitsi-notice"' in html) is notice
        notice_text = html.split('id="public-jitsi-notice"', 1)[-1].split("</div>", 1)[0] if notice else ""
        assert ("5 minuten" in notice_text and domain in notice_text) is notice
        assert ("log" in notice_text and "moderator" in notice_text) is login  # meet.jit.si's login and lobby
    assert app.extensions["plein"].jitsi.mode == "open"


# -- plein jitsi check ----------------------------------------------------------------------------------

@pytest.fixture
def loopback_jitsi(jitsi_build, fake_jitsi):
    """The tests' loopback Jitsi (tests/fake_jitsi.py) serving Jitsi's real external_api.js over HTTPS."""
    return fake_jitsi


def jitsi_check(jitsi, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JITSI_")}
    return subprocess.run([sys.executable, "-m", "server.cli", "jitsi", "check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**clean, "REQUESTS_CA_BUNDLE": str(jitsi.ca_bundle), **env})


def self_hosted(jitsi, **extra) -> dict:
    return {"JITSI_DOMAIN": jitsi.domain, "JITSI_APP_ID": "plein-test", "JITSI_APP_SECRET": HS_SECRET, **extra}


def test_jitsi_check_good_deployment(loopback_jitsi, room_size):
    room_size.sizes["plein-check"] = 0
    done = jitsi_check(loopback_jitsi, **self_hosted(loopback_jitsi, JITSI_ROOM_SIZE_URL=room_size.url))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Mode:        tokens" in out and "IFrame API:  " in out and " - ok" in out
    assert '"alg": "HS256"' in out and '"iss": "plein-test"' in out and '"room": "plein-check"' in out
    assert "Room sizes:  " + room_size.url in out and "fit for an evening" in out
    assert HS_SECRET not in out + done.stderr


def test_jitsi_check_wrong_script(loopback_jitsi):
    loopback_jitsi.script = b"<html>Welcome to nginx!</html>"  # a web server, not Jitsi
    done = jitsi_check(loopback_jitsi, **self_hosted(loopback_jitsi))
    assert done.returncode == 1
    assert "not with the Jitsi IFrame API" in done.stderr and "1 problem(s)" in done.stderr


def test_jitsi_check_skewed_clock_and_a_failing_room_size_endpoint(loopback_jitsi, room_size):
    loopback_jitsi.clock_skew = -45  # the Jitsi server's clock is 45 s behind: tokens made now are nearly refused
    room_size.mode = "500"
    done = jitsi_check(loopback_jitsi, **self_hosted(loopback_jitsi, JITSI_ROOM_SIZE_URL=room_size.url))
    assert done.returncode == 1
    # A Date header has whole seconds: 45 s behind reads as 45 or 46.
    assert re.search(r"-4[56]\.\d s from this machine", done.stdout.split("Clock:", 1)[1].splitlines()[0])
    assert re.search(r"clocks differ by 4[56] s", done.stderr) and "room-size endpoint" in done.stderr
    assert "2 problem(s)" in done.stderr
    loopback_jitsi.clock_skew = 10  # within the margin
    room_size.mode = "ok"
    assert jitsi_check(loopback_jitsi, **self_hosted(loopback_jitsi, JITSI_ROOM_SIZE_URL=room_size.url)).returncode == 0


def test_jitsi_check_short_secret(loopback_jitsi):
    done = jitsi_check(loopback_jitsi, **self_hosted(loopback_jitsi, JITSI_APP_SECRET="geheim"))
    assert done.returncode == 1 and "shorter than 32 bytes" in done.stderr and "geheim" not in done.stdout + done.stderr
    assert "Warning" not in done.stderr


def test_jitsi_check_jaas_and_open_modes(loopback_jitsi, pem_file):
    done = jitsi_check(loopback_jitsi, JITSI_JAAS_APP_ID=APP_ID, JITSI_JAAS_KEY_ID=KEY_ID,
                       JITSI_JAAS_PRIVATE_KEY_FILE=str(pem_file),
                       JITSI_EXTERNAL_API_URL=f"https://{loopback_jitsi.domain}/{APP_ID}/external_api.js")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Mode:        jaas" in done.stdout and f'"kid": "{KEY_ID}"' in done.stdout
    assert '"moderator": "true"' in done.stdout and "not polled on JaaS" in done.stdout
    assert pem_file.read_text().splitlines()[1] not in done.stdout + done.stderr
    public = jitsi_check(loopback_jitsi, JITSI_DOMAIN="meet.jit.si", JITSI_EXTERNAL_API_URL=loopback_jitsi.script_url)
    assert public.returncode == 1 and "Mode:        open" in public.stdout
    assert "5 minutes" in public.stderr and "log in" in public.stderr

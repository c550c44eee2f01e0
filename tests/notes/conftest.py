"""Fixtures of the notes tests: servers on tests/data/notes.toml and pycrdt clients (helpers: notes_support.py)."""
from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from notes_support import NOTES_PROGRAM  # noqa: E402
from yclient import NoteClient  # noqa: E402


@pytest.fixture
def notes_server(start_server):
    """Factory: notes_server(env=...) -> a server on the notes program (clock waiting for the start)."""
    def start(env: dict | None = None):
        return start_server("--program", str(NOTES_PROGRAM), env=env, jitsi=None)
    return start


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

"""Helpers of the notes tests (imported as `notes_support`; the fixtures are in conftest.py)."""
from __future__ import annotations

import requests

from support import MODERATOR_KEY, ROOT

NOTES_PROGRAM = ROOT / "tests" / "data" / "notes.toml"
MOD = {"Authorization": f"Bearer {MODERATOR_KEY}"}


def seat(server, name: str, session: str = "idee", round_id: str = "ronde-1") -> dict:
    """A new participant who chose `session` (before the round starts): {"id", "name", "token"}."""
    person = server.join(name)
    resp = requests.put(server.api("/participants/me/choices"), json={round_id: session},
                        headers={"Authorization": f"Bearer {person['token']}"}, timeout=5)
    assert resp.status_code == 200, resp.text
    return person


def mute(listener):
    """A plain support.Listener that joins a note: ignore the binary `notes:message` (two arguments)."""
    listener.sio.on("notes:message", lambda *args: None)
    return listener

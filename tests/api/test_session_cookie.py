"""The moderator's name lives in the session cookie: a read must not send an older cookie back over it."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.redis


def test_a_request_that_changes_no_session_sets_no_cookie(app, client):
    """A slow request that began before the moderator named herself (the Jitsi check takes seconds) must not send
    the old cookie back after the new one: only a request that changes the session sets it (issue 10: broadcasts
    signed "Moderator 8845" although a name was given)."""
    from support import MODERATOR_KEY, SLUG
    client.get(f"/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    read = client.get(f"/api/events/{SLUG}/console")
    assert read.status_code == 200 and "Set-Cookie" not in read.headers
    named = client.put(f"/api/events/{SLUG}/moderators/me", json={"name": "Femke"})
    assert named.status_code == 200 and "Set-Cookie" in named.headers

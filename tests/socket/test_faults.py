"""Faults across workers, on redis-server processes of the test's own (never the shared Redis): a Redis
restart under two workers. Each test prints the figure it measures (run with -s to see it)."""
from __future__ import annotations

import time

import pytest
import redis
import requests

from own_redis import OwnRedis
from support import ServerProcess

pytestmark = pytest.mark.socket

# No rate limits (every client is on loopback); a Jitsi nobody needs here, on a loopback port that refuses.
QUIET = {"PLEIN_RATE_LIMITS": "off", "JITSI_DOMAIN": "127.0.0.1:9", "JITSI_EXTERNAL_API_URL": "http://127.0.0.1:9/external_api.js"}


def wait_until(condition, timeout: float, step: float = 0.05, what: str = "condition"):
    """Poll `condition` until it returns something true; that value, or an AssertionError at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(step)


def own_room(server, token: str) -> str | None:
    """The room a participant should be in now, by the server's word over HTTP."""
    resp = requests.get(server.api("/participants/me/state"), headers={"Authorization": f"Bearer {token}"}, timeout=5)
    resp.raise_for_status()
    room = resp.json()["room"]
    return room and room["name"]


def last_room(listener) -> str | None:
    states = listener.states()
    return states[-1]["room"] and states[-1]["room"]["name"] if states else None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("outage", [8, 20])
def test_every_page_is_in_the_right_room_soon_after_a_redis_restart(tmp_path, listen, outage):
    """Two workers on one redis-server, participants on both; Redis is killed and comes back on the same port
    after `outage` seconds. A clock advance cannot be accepted while Redis is away (503), so the moderator
    advances right after it returns, into a round (one push per session, sockets regrouped on both workers).
    Every page must get its new room, and the other worker must hear the queue again."""
    store = OwnRedis(tmp_path / "redis", persist=True).start()
    workers = [ServerProcess(store.url, env=QUIET, tmp=tmp_path, jitsi=None).start() for _ in range(2)]
    try:
        a, b = workers
        joined = [(w, w.join(f"{'AB'[i % 2]}{i}")["token"]) for i, w in enumerate([a, b] * 3)]
        pages = [(listen(w, token), token) for w, token in joined]
        assert a.clock("start").status_code == 200
        version = a.clock("advance").json()["version"]  # the break: one push to all
        for page, _ in pages:
            page.wait_for(lambda d: d["version"] == version, 5)

        store.stop(kill=True)
        time.sleep(outage)  # the fault itself: Redis away for this long
        during = a.clock("advance")
        assert during.status_code == 503 and during.json()["error"]["code"] == "redis_down"
        store.start()
        back = time.monotonic()

        advanced = wait_until(lambda: (resp := a.clock("advance")).status_code == 200 and resp.json(), 10, 0.1,
                              "the advance after Redis returned")
        advanced_at = time.monotonic() - back
        assert advanced["phase"]["id"] == "ronde-1"
        expected = {token: own_room(a, token) for _, token in pages}
        assert all(expected.values())

        def all_in_place():
            return all(last_room(page) == expected[token] for page, token in pages)

        def first_broadcast(page) -> float | None:
            return next((t for (e, _), t in zip(page.events, page.times) if e == "broadcast"), None)

        # Broadcasts every 0.2 s until every page has heard one: how long the queue stays deaf.
        heard, sent = None, 0
        while heard is None and time.monotonic() - back < 30:
            sent += 1
            assert a.call("POST", "/broadcasts", {"text": f"Probe {sent}"}).status_code == 201
            time.sleep(0.2)
            firsts = [first_broadcast(page) for page, _ in pages]
            if all(firsts):
                heard = max(firsts) - back
        try:
            wait_until(all_in_place, 10, what="every page in its room of ronde-1")
        except AssertionError:
            lost = sum(last_room(page) != expected[token] for page, token in pages)
            raise AssertionError(f"Redis away {outage} s: {lost} of {len(pages)} pages never got their room of "
                                 f"ronde-1; the queue was deaf for {heard} s after Redis returned") from None
        arrivals = [max(t for (e, d), t in zip(page.events, page.times)
                        if e == "state" and d["room"] and d["room"]["name"] == expected[token]) for page, token in pages]
        healed = max(arrivals) - back
        print(f"\nRedis away {outage} s: advance accepted {advanced_at:.2f} s after it returned; every page "
              f"(on both workers) in its new room {healed:.2f} s after; the queue deaf for {heard:.2f} s")
    finally:
        for w in workers:
            w.stop()
        store.stop()


@pytest.mark.timeout(60)
def test_messages_published_while_a_worker_was_not_listening_reach_its_pages(tmp_path, listen):
    """Redis stays up but drops the workers' queue subscriptions (CLIENT KILL TYPE pubsub): the advance published
    before they subscribe again is lost for the other worker's sockets; its heal puts them in their rooms."""
    store = OwnRedis(tmp_path / "redis").start()
    workers = [ServerProcess(store.url, env=QUIET, tmp=tmp_path, jitsi=None).start() for _ in range(2)]
    try:
        a, b = workers
        pages = [(listen(w, token), token) for w in (a, b, b, b) for token in [w.join("Op B")["token"]]]
        assert a.clock("start").status_code == 200
        version = a.clock("advance").json()["version"]
        for page, _ in pages:
            page.wait_for(lambda d: d["version"] == version, 5)
        admin = store.client()
        assert admin.client_kill_filter(_type="pubsub") >= 2
        cut = time.monotonic()
        assert a.clock("advance").json()["phase"]["id"] == "ronde-1"  # published while nobody listens
        expected = {token: own_room(a, token) for _, token in pages}
        wait_until(lambda: all(last_room(page) == expected[token] for page, token in pages), 15,
                   what="every page in its room of ronde-1")
        print(f"\nqueue subscriptions cut: every page in its room {time.monotonic() - cut:.2f} s later")
    finally:
        for w in workers:
            w.stop()
        store.stop()


def fill(client, until, size: int = 32 * 1024) -> int:
    """Write filler keys into Redis until `until(used_memory, maxmemory)` holds (or Redis refuses); how many."""
    n = 0
    while True:
        info = client.info("memory")
        if until(info["used_memory"], info["maxmemory"]):
            return n
        try:
            client.set(f"filler:{n}", "x" * size)
        except redis.exceptions.OutOfMemoryError:
            return n
        n += 1


@pytest.mark.timeout(60)
def test_a_full_redis_says_so_and_keeps_room_for_the_moderators(tmp_path, listen):
    """Redis with a small maxmemory under noeviction. Near the limit (within PLEIN_STORAGE_HEADROOM) participants'
    writes are refused as storage_full while a moderator signs in and steers the clock; over the limit every
    write says storage_full (not "cannot reach storage"), /healthz says 503 "full"; freed, all is well again."""
    from support import MODERATOR_KEY, SLUG
    store = OwnRedis(tmp_path / "redis", "--maxmemory", "6mb", "--maxmemory-policy", "noeviction").start()
    server = ServerProcess(store.url, env={**QUIET, "PLEIN_STORAGE_HEADROOM": str(2 * 1024 * 1024)}, tmp=tmp_path,
                           jitsi=None).start()
    admin = store.client()
    try:
        token = server.join("Vroeg")["token"]
        page = listen(server, token)
        assert server.clock("start").status_code == 200

        # Near the limit: within the headroom, under maxmemory.
        fill(admin, lambda used, limit: used >= limit - 1024 * 1024)
        health = wait_until(lambda: (resp := requests.get(server.url + "/healthz", timeout=5)).status_code == 503
                            and resp.json(), 5, what="/healthz says 503")
        assert health == {"status": "degraded", "redis": "full"}
        signup = requests.post(server.api("/participants"), json={"name": "Laat"}, timeout=5)
        assert signup.status_code == 503 and signup.json()["error"]["code"] == "storage_full"
        assert "vol" in signup.json()["error"]["message"]
        english = requests.post(server.api("/participants/me/help"), json={"text": "Help"}, timeout=5,
                                headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
        assert english.status_code == 503 and english.json()["error"]["message"].startswith("The server's storage is full")
        asked = page.call("help:ask", {"text": "Hallo?"})
        assert asked["error"]["code"] == "storage_full"

        moderator = requests.Session()
        signed_in = moderator.post(f"{server.url}/e/{SLUG}/moderator", data={"key": MODERATOR_KEY, "name": "Mod"},
                                   allow_redirects=False, timeout=5)
        assert signed_in.status_code == 303
        assert moderator.get(f"{server.url}/e/{SLUG}/moderator", timeout=5).status_code == 200
        steered = server.clock("advance")
        assert steered.status_code == 200, steered.text
        page.wait_for(lambda d: d["version"] == steered.json()["version"], 5)

        # Over the limit (something else filled it): Redis refuses every write, and Plein says so.
        admin.config_set("maxmemory", admin.info("memory")["used_memory"] - 256 * 1024)  # as if it grew on
        over = server.clock("advance")
        assert over.status_code == 503 and over.json()["error"]["code"] == "storage_full", over.text
        assert requests.get(server.url + "/healthz", timeout=5).json()["redis"] == "full"
        again = requests.Session().post(f"{server.url}/e/{SLUG}/moderator", data={"key": MODERATOR_KEY},
                                        allow_redirects=False, timeout=5)
        assert again.status_code == 303  # still signs in (the audit line is skipped)

        admin.config_set("maxmemory", "6mb")
        for key in admin.scan_iter("filler:*", count=1000):
            admin.delete(key)
        wait_until(lambda: requests.get(server.url + "/healthz", timeout=5).status_code == 200, 5,
                   what="/healthz back to 200")
        assert server.clock("advance").status_code == 200
        assert requests.post(server.api("/participants"), json={"name": "Laat"}, timeout=5).status_code == 201
        print(f"\nRedis full: /healthz 503 'full', participants storage_full, moderator signed in and steered the clock")
    finally:
        server.stop()
        store.stop()


@pytest.mark.timeout(90)
def test_a_sentinel_failover_mid_round_loses_nothing_acknowledged(tmp_path, listen):
    """REDIS_URL=redis+sentinel://: a primary, a replica and one sentinel; the primary is killed in the middle of a
    round. Every choice and help request acknowledged before is there after, through the new primary; the pages
    follow the next advance and hear the queue again, without reconnecting."""
    primary = OwnRedis(tmp_path / "primary", "--repl-diskless-sync-delay", "0").start()
    replica = OwnRedis(tmp_path / "replica", "--replicaof", "127.0.0.1", str(primary.port)).start()
    sentinel = OwnRedis(tmp_path / "sentinel", f"sentinel monitor plein 127.0.0.1 {primary.port} 1",
                        "sentinel down-after-milliseconds plein 1000", "sentinel failover-timeout plein 5000",
                        sentinel=True).start()
    ask = sentinel.client(socket_timeout=2)
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up" and ask.execute_command(
        "SENTINEL", "REPLICAS", "plein"), 20, 0.2, "the replica in sync, and known to the sentinel")
    url = f"redis+sentinel://127.0.0.1:{sentinel.port}/0/plein"
    workers = [ServerProcess(url, env=QUIET, tmp=tmp_path, jitsi=None).start() for _ in range(2)]
    try:
        a, b = workers
        joined = [(w, w.join(f"Deelnemer {i}")["token"]) for i, w in enumerate([a, b] * 3)]
        pages = [(listen(w, token), token) for w, token in joined]
        assert a.clock("start").status_code == 200
        a.clock("advance")
        assert a.clock("advance").json()["phase"]["id"] == "ronde-1"

        acknowledged = {}
        for i, (w, token) in enumerate(joined):
            auth = {"Authorization": f"Bearer {token}"}
            choice = {"ronde-2": ["samensturing", "fondsen-financiering", "buurtcooperatie"][i % 3]}
            assert requests.put(w.api("/participants/me/choices"), json=choice, headers=auth, timeout=5).ok
            asked = requests.post(w.api("/participants/me/help"), json={"text": f"Vraag {i}"}, headers=auth, timeout=5)
            assert asked.ok, asked.text
            acknowledged[token] = (choice["ronde-2"], asked.json()["id"])

        primary.stop(kill=True)  # mid-round, right after the last acknowledgement
        killed = time.monotonic()
        wait_until(lambda: ask.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "plein")[1] == str(replica.port),
                   30, 0.1, "the sentinel promotes the replica")
        promoted = time.monotonic() - killed
        steered = wait_until(lambda: (resp := b.clock("advance")).status_code == 200 and resp.json(), 20, 0.1,
                             "a clock advance through the new primary")
        accepted = time.monotonic() - killed
        assert steered["phase"]["id"] == "pauze-1815"  # the clock went on from ronde-1: nothing of it was lost
        for page, _ in pages:
            page.wait_for(lambda d: d["version"] == steered["version"], 10)
        followed = time.monotonic() - killed

        for w, token in joined:
            auth = {"Authorization": f"Bearer {token}"}
            me = requests.get(w.api("/participants/me"), headers=auth, timeout=5).json()
            assert me["placements"]["ronde-2"] == acknowledged[token][0]
            help_ = requests.get(w.api("/participants/me/help"), headers=auth, timeout=5).json()
            assert help_["request"]["id"] == acknowledged[token][1]
        assert a.call("POST", "/broadcasts", {"text": "Na de failover"}).status_code == 201
        for page, _ in pages:
            page.wait_for(lambda d: d["text"] == "Na de failover", 10, event="broadcast")
        print(f"\nSentinel failover: replica promoted {promoted:.1f} s after the kill, first advance accepted "
              f"{accepted:.1f} s, every page in the new phase {followed:.1f} s; 6 choices and 6 help requests kept")
    finally:
        for w in workers:
            w.stop()
        for server in (sentinel, replica, primary):
            server.stop()


@pytest.mark.timeout(60)
def test_a_connection_while_redis_is_away_is_refused_with_a_code_to_retry_on(tmp_path, listen):
    """Before: the connection was accepted with no state and in no Socket.IO room, so it missed every push after.
    Now it is refused with `redis_down` (the live page tries again), and a connection after Redis returns follows."""
    import socketio
    from support import Listener
    store = OwnRedis(tmp_path / "redis", persist=True).start()
    server = ServerProcess(store.url, env=QUIET, tmp=tmp_path, jitsi=None).start()
    try:
        token = server.join("Tussendoor")["token"]
        assert server.clock("start").status_code == 200
        store.stop(kill=True)
        early = Listener(server.url, {"token": token, "lang": "en"})
        with pytest.raises(socketio.exceptions.ConnectionError):
            early.connect()
        assert early.error["data"]["code"] == "redis_down"
        assert early.error["data"]["message"].startswith("The server cannot reach its storage")
        store.start()
        page = listen(server, token)
        version = wait_until(lambda: (resp := server.clock("advance")).status_code == 200 and resp.json(), 10, 0.1,
                             "the advance after Redis returned")["version"]
        page.wait_for(lambda d: d["version"] == version, 5)
    finally:
        server.stop()
        store.stop()

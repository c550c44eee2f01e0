"""The Jitsi role each live page says it got (moderator or participant), and what the console makes of it.

A page's report is a claim, not a right: Plein never grants or removes anything because of it. It only lets
the moderators see who holds Jitsi moderator rights in each room, and warn when those rights went to the
wrong people: a stock Jitsi makes the first to arrive (Debian packages) or every token holder
(docker-jitsi-meet with JWT) a moderator, and reads no host claim without mod_token_affiliation.
"""
from __future__ import annotations

import json
import re
import time

import redis

from .errors import PleinError
from .limits import Limits
from .store import Keys

ROLES = ("moderator", "participant", "none")
ROOM_NAME = re.compile(r"^[a-z0-9-]{1,100}$")  # the rooms' own names (rooms/jitsi.py), without a JaaS AppID


class VideoRoles:
    """pid -> {room, role, at} in one Redis hash; "none" (the page left the room) removes the claim."""

    def __init__(self, r: redis.Redis, keys: Keys, limits: Limits, now=time.time):
        self.r = r
        self.keys = keys
        self.limits = limits
        self.now = now

    def report(self, pid: str, data) -> dict:
        """Keep what the page says; raises `bad_role_report` for anything but {room, role}."""
        data = data if isinstance(data, dict) else {}
        room, role = data.get("room"), data.get("role")
        if role not in ROLES or not isinstance(room, str) or not ROOM_NAME.match(room):
            raise PleinError("bad_role_report")
        self.limits.take("role", pid)
        claim = {"room": room, "role": role, "at": round(self.now(), 3)}
        with self.r.pipeline(transaction=False) as pipe:
            if role == "none":
                pipe.hdel(self.keys.video_roles, pid)
            else:
                pipe.hset(self.keys.video_roles, pid, json.dumps(claim))
            pipe.set(self.keys.console_dirty, "1")
            pipe.execute()
        return claim

    def report_left(self, pid: str) -> None:
        """The participant is gone (removed from the evening): no claim of theirs counts any more."""
        self.r.hdel(self.keys.video_roles, pid)

    def all(self) -> dict[str, dict]:
        return {pid: json.loads(raw) for pid, raw in self.r.hgetall(self.keys.video_roles).items()}


def room_roles(room: dict, claims: dict[str, dict]) -> dict:
    """One console room's Jitsi side, from the claims of the people present in it:
    `moderators` (who holds rights), `reported` (how many pages said anything), and what is wrong:
    `non_hosts` (moderators who are not this room's host) and `hosts_lacking` (hosts who said they are not)."""
    name = room.get("jitsi_room")
    mine = {p["id"]: claims[p["id"]]["role"] for p in room["present"]
            if name and p["id"] in claims and claims[p["id"]]["room"] == name}
    host_ids = {h["id"] for h in room["hosts"]}
    by_id = {p["id"]: p for p in room["present"]}
    return {
        "moderators": [by_id[pid] for pid, role in mine.items() if role == "moderator"],
        "reported": len(mine),
        "non_hosts": [by_id[pid] for pid, role in mine.items() if role == "moderator" and pid not in host_ids],
        "hosts_lacking": [by_id[pid] for pid, role in mine.items() if role == "participant" and pid in host_ids],
    }


def rights_summary(rooms: list[dict], mode: str) -> dict:
    """The console's verdict on Jitsi moderator rights over every room (each with its `video_roles`).

    - `ok`: nobody but hosts is a moderator and no host is without rights;
    - `cause` "everyone": in some room where two or more pages reported, all are moderators (jicofo's own
      authentication, as docker-jitsi-meet with JWT, or muc_wait_for_host); "first": some non-host is a
      moderator, not everyone (jicofo's auto-owner, as on Debian packages); None when only hosts lack rights;
    - without tokens (`mode` "open") no host can have rights, so `hosts_lacking` stays empty;
    - `status` "unknown" while no page has reported yet.
    """
    reported = sum(r["video_roles"]["reported"] for r in rooms)
    non_hosts = [{"name": p["name"], "id": p["id"], "room": r["title"]}
                 for r in rooms for p in r["video_roles"]["non_hosts"]]
    lacking = [{"name": p["name"], "id": p["id"], "room": r["title"]}
               for r in rooms for p in r["video_roles"]["hosts_lacking"]]
    everyone = any(r["video_roles"]["reported"] >= 2
                   and len(r["video_roles"]["moderators"]) == r["video_roles"]["reported"] for r in rooms)
    cause = ("everyone" if everyone else "first") if non_hosts else None
    if mode == "open":  # without tokens no host can get rights: the fix text says so, it is no finding per host
        lacking = []
    status = "unknown" if not reported else ("warning" if non_hosts or lacking else "ok")
    return {"status": status, "mode": mode, "cause": cause, "non_hosts": non_hosts, "hosts_lacking": lacking,
            "reported": reported}

"""The moderator console's picture of the evening: per room who is present (and since when), who
joined but is not connected, the video side's own counts, open help requests, the latest actions.

Built from Redis alone, so any worker can build it; the server sends it at most once a second.
"""
from __future__ import annotations

from .timeline import iso
from .video_roles import rights_summary, room_roles

NOT_CONNECTED_SHOWN = 200


def overview(ev, state=None) -> dict:
    state = state or ev.state()
    tz = ev.tz
    online = ev.presence.online()
    joined = ev.participants.joined()
    names = ev.participants.names(pid for pid, _ in joined)
    hosts = ev.hosts.all()
    cur = state.current

    def person(pid: str, since: float | None = None) -> dict:
        out = {"id": pid, "name": names.get(pid, "?")}
        if since is not None:
            out["since"] = iso(since, tz)
        return out

    rooms: list[dict] = []
    placed: set[str] = set()
    if cur is not None and cur.phase.kind == "round":
        seats = ev.seats.members(cur.phase.id)
        moved_at = {pid: float(t) for pid, t in ev.r.hgetall(ev.keys.seated_at(cur.phase.id)).items()}
        for session in cur.phase.sessions:
            here = sorted((pid for pid in online if seats.get(pid) == session.id),
                          key=lambda pid: names.get(pid, "").casefold())
            placed.update(here)
            rooms.append({
                "id": session.id, "session": session.id, "title": session.title, "kind": session.kind,
                "capacity": session.capacity, "seated": sum(1 for s in seats.values() if s == session.id),
                "jitsi_room": ev.rooms.session_room(cur, session).name,
                "present": [person(pid, max(online[pid].since, cur.starts_at, moved_at.get(pid, 0)))
                            for pid in here],
                "hosts": [person(pid) for pid in hosts.get(session.id, [])],
            })
    else:
        room = ev.rooms.room(cur, {})
        here = sorted(online, key=lambda pid: names.get(pid, "").casefold())
        placed.update(here)
        start = cur.starts_at if cur is not None else 0
        rooms.append({
            "id": "plenary" if room else "lobby", "session": None,
            "title": room.title if room else None, "kind": cur.phase.kind if cur else None,
            "capacity": None, "seated": None, "jitsi_room": room.name if room else None,
            "present": [person(pid, max(online[pid].since, start)) for pid in here], "hosts": [],
        })
    unplaced = [pid for pid in online if pid not in placed]
    if unplaced:  # connected during a round without a seat: only for an instant, while being placed
        rooms.append({"id": "unplaced", "session": None, "title": None, "kind": None, "capacity": None,
                      "seated": None, "jitsi_room": None, "present": [person(pid, online[pid].since) for pid in unplaced],
                      "hosts": []})
    sizes = ev.sizes.read([r["jitsi_room"] for r in rooms if r["jitsi_room"]])
    claims = ev.video_roles.all()
    for r in rooms:
        r["count"] = len(r["present"])
        r["jitsi"] = sizes.get(r["jitsi_room"], {"count": None, "status": "off" if not ev.sizes.enabled else "unknown"})
        r["video_roles"] = room_roles(r, claims)

    absent = [(pid, at) for pid, at in joined if pid not in online]
    return {
        "generated_at": iso(state.now, tz),
        "state": ev.public_state(state),
        "signup_open": ev.signup_open(),
        "totals": {"participants": len(joined), "connected": len(online), "not_connected": len(absent)},
        "rooms": rooms,
        "not_connected": [{**person(pid), "joined_at": iso(at, tz)} for pid, at in absent[-NOT_CONNECTED_SHOWN:]],
        # where the person is now, not where they asked from: a move or a new round sends help elsewhere
        "help": [help_wire({**item, "room": ev.where(item["pid"], state)}, tz) for item in ev.help.pending()],
        "audit": ev.audit.recent(30),
        "jitsi_sizes": ev.sizes.enabled,
        "jitsi_rights": rights_summary(rooms, ev.jitsi.mode),
    }


def help_wire(item: dict, tz) -> dict:
    """A help request with its times in the event's time zone."""
    return {**item, "asked_at": iso(item["asked_at"], tz), "at": iso(item["at"], tz),
            "messages": [{**m, "at": iso(m["at"], tz)} for m in item["messages"]]}


def room_view(ev, session_id: str, state=None) -> dict | None:
    """One session's room as its host sees it (the console's entry for that room), or None."""
    for room in overview(ev, state)["rooms"]:
        if room["session"] == session_id:
            return room
    return None

"""Idea cards of a brainstorm session, in Redis.

Keys under `plein:{<slug>}:`:
- `cards:<session>`: sorted set of card ids, scored by creation time (ms).
- `card:<session>:<id>`: hash text, author_id, author_name, created_at, updated_at (epoch seconds).
- `card-votes:<session>:<id>`: set of the ids of who voted for it (one vote each, toggled atomically).
- `card-authors:<session>`: hash author id -> how many cards they have up (at most CARDS_PER_PERSON).
- `cards-hidden:<session>`: the ids a moderator or the session's host hid, scored as in `cards:<session>`: out of
  every list, vote, yield and export; kept (and in the audit log) until shown again.
Display order: votes descending, then oldest first.
"""
from __future__ import annotations

import secrets
import time

import redis

from .console import clean_text
from .errors import PleinError
from .store import Keys
from .timeline import iso

CARD_MAX = 280
CARDS_PER_PERSON = 25  # cards one person may have up in one session (a withdrawn one makes room)

# Add a card unless its author has CARDS_PER_PERSON up already: 1 added, 0 too many.
_ADD = """
if tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
redis.call('HSET', KEYS[1], 'text', ARGV[3], 'author_id', ARGV[1], 'author_name', ARGV[4],
           'created_at', ARGV[5], 'updated_at', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7])
return 1
"""

# Toggle a vote; {voted (0|1), votes}, or -1 when the card is gone (or hidden: not in the index KEYS[3]).
_VOTE = """
if redis.call('EXISTS', KEYS[1]) == 0 or not redis.call('ZSCORE', KEYS[3], ARGV[2]) then return -1 end
local voted
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  redis.call('SREM', KEYS[2], ARGV[1]); voted = 0
else
  redis.call('SADD', KEYS[2], ARGV[1]); voted = 1
end
return {voted, redis.call('SCARD', KEYS[2])}
"""

# Edit (ARGV[2] = text) or withdraw (ARGV[2] = '') only one's own card: 1 ok, -1 gone, -2 not yours.
_OWN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'author_id') ~= ARGV[1] then return -2 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[4])
  redis.call('HINCRBY', KEYS[4], ARGV[1], -1)
else
  redis.call('HSET', KEYS[1], 'text', ARGV[2], 'updated_at', ARGV[3])
end
return 1
"""


# Hide (ARGV[2] = '1') or show again ('0') a card: move its id between the index KEYS[2] and the hidden set
# KEYS[3], keeping its score (creation time). KEYS[1]: the card. 1 moved, 0 already so, -1 no such card.
_HIDE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local from, to = KEYS[2], KEYS[3]
if ARGV[2] == '0' then from, to = KEYS[3], KEYS[2] end
local score = redis.call('ZSCORE', from, ARGV[1])
if not score then return 0 end
redis.call('ZREM', from, ARGV[1])
redis.call('ZADD', to, score, ARGV[1])
return 1
"""


class Cards:
    def __init__(self, r: redis.Redis, keys: Keys, tz, now=time.time):
        self.r = r
        self.keys = keys
        self.tz = tz
        self.now = now
        self._vote = r.register_script(_VOTE)
        self._own = r.register_script(_OWN)
        self._add = r.register_script(_ADD)
        self._hide = r.register_script(_HIDE)

    def _index(self, session_id: str) -> str:
        return self.keys("cards", session_id)

    def _hidden(self, session_id: str) -> str:
        return self.keys("cards-hidden", session_id)

    def _card(self, session_id: str, card_id: str) -> str:
        return self.keys("card", session_id, card_id)

    def _votes(self, session_id: str, card_id: str) -> str:
        return self.keys("card-votes", session_id, card_id)

    def _authors(self, session_id: str) -> str:
        return self.keys("card-authors", session_id)

    def _wire(self, card_id: str, h: dict, votes: int, voted: bool | None) -> dict:
        card = {"id": card_id, "text": h["text"], "author": {"id": h["author_id"], "name": h["author_name"]},
                "votes": votes, "created_at": iso(float(h["created_at"]), self.tz),
                "updated_at": iso(float(h["updated_at"]), self.tz)}
        if voted is not None:
            card["voted"] = voted
        return card

    def list(self, session_id: str, voter: str | None = None, *, with_voted: bool = True) -> list[dict]:
        """Every card in display order; `voted` for `voter` unless with_voted is False."""
        ids = self.r.zrange(self._index(session_id), 0, -1)
        if not ids:
            return []
        with self.r.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hgetall(self._card(session_id, cid))
                pipe.scard(self._votes(session_id, cid))
                pipe.sismember(self._votes(session_id, cid), voter or "")
            raw = pipe.execute()
        cards = []
        for i, cid in enumerate(ids):
            h, votes, voted = raw[3 * i], raw[3 * i + 1], raw[3 * i + 2]
            if h:
                cards.append(self._wire(cid, h, int(votes), bool(voted) if with_voted else None))
        cards.sort(key=lambda c: -c["votes"])  # stable: equal votes stay oldest first (the index order)
        return cards

    def get(self, session_id: str, card_id, voter: str | None = None) -> dict:
        if not isinstance(card_id, str) or not card_id:
            raise PleinError("bad_field", field="card")
        with self.r.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._card(session_id, card_id))
            pipe.scard(self._votes(session_id, card_id))
            pipe.sismember(self._votes(session_id, card_id), voter or "")
            h, votes, voted = pipe.execute()
        if not h:
            raise PleinError("unknown_card", 404)
        return self._wire(card_id, h, int(votes), None if voter is None else bool(voted))

    def add(self, session_id: str, author: dict, raw_text) -> dict:
        text = clean_text(raw_text, max_len=CARD_MAX, code="card")
        card_id = secrets.token_hex(6)
        now = self.now()
        added = self._add(keys=[self._card(session_id, card_id), self._index(session_id), self._authors(session_id)],
                          args=[author["id"], CARDS_PER_PERSON, text, author["name"], f"{now:.3f}",
                                int(now * 1000), card_id])
        if not added:
            raise PleinError("cards_too_many", 409, max=CARDS_PER_PERSON)
        return self.get(session_id, card_id, author["id"])

    def _own_action(self, session_id: str, card_id, author_id: str, text: str) -> None:
        if not isinstance(card_id, str) or not card_id:
            raise PleinError("bad_field", field="card")
        result = self._own(keys=[self._card(session_id, card_id), self._votes(session_id, card_id),
                                 self._index(session_id), self._authors(session_id)],
                           args=[author_id, text, f"{self.now():.3f}", card_id])
        if result == -1:
            raise PleinError("unknown_card", 404)
        if result == -2:
            raise PleinError("card_not_yours", 403)

    def edit(self, session_id: str, card_id, author_id: str, raw_text) -> dict:
        text = clean_text(raw_text, max_len=CARD_MAX, code="card")
        self._own_action(session_id, card_id, author_id, text)
        return self.get(session_id, card_id, author_id)

    def withdraw(self, session_id: str, card_id, author_id: str) -> None:
        self._own_action(session_id, card_id, author_id, "")

    def hide(self, session_id: str, card_id, hidden: bool) -> dict:
        """Take a card out of the session (or put it back) for everyone; returns it as it is (not its votes' owner)."""
        if not isinstance(card_id, str) or not card_id:
            raise PleinError("bad_field", field="card")
        moved = self._hide(keys=[self._card(session_id, card_id), self._index(session_id), self._hidden(session_id)],
                           args=[card_id, "1" if hidden else "0"])
        if moved == -1:
            raise PleinError("unknown_card", 404)
        return self.get(session_id, card_id)

    def hidden(self, session_id: str) -> list[str]:
        return self.r.zrange(self._hidden(session_id), 0, -1)

    def vote(self, session_id: str, card_id, voter: str) -> tuple[bool, int]:
        if not isinstance(card_id, str) or not card_id:
            raise PleinError("bad_field", field="card")
        result = self._vote(keys=[self._card(session_id, card_id), self._votes(session_id, card_id),
                                  self._index(session_id)], args=[voter, card_id])
        if result == -1:
            raise PleinError("unknown_card", 404)
        return bool(result[0]), int(result[1])

"""Rate limits per person (or per address, for sign-up): a token bucket per (limit, who) in Redis.

A bucket holds `burst` actions and refills at `per_minute`; each action takes one. Checking and taking is
one Lua call, so every worker counts the same and a refused action costs one round trip, never a retry
loop. A limit that is hit answers `rate_limited` (429) with the seconds until the next action is allowed:
the one person (or address) waits, nobody else notices. `PLEIN_RATE_LIMITS=off` switches every limit off,
for load tests on loopback.

The defaults are set for real use: a hall of 200 people signing up within a minute behind one address
fits in SIGNUP (120 at once, then 5 a second: 200 within 16 s), while a script that signs up 300 in a second
gets the first 120.
"""
from __future__ import annotations

from dataclasses import dataclass

import redis

from .errors import PleinError
from .store import Keys

# KEYS[1]: the bucket, a hash {tokens, at (ms)}.
# ARGV[1]: burst (most tokens), ARGV[2]: refill in tokens per millisecond, ARGV[3]: cost of this action,
# ARGV[4]: now in ms, or "" for Redis's own clock (TIME: workers with slightly different clocks count alike).
# Returns 0 when the action may go ahead (its cost taken), else the milliseconds until it could.
_TAKE = """
local burst, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens < cost then
  return math.ceil((cost - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - cost), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return 0
"""


@dataclass(frozen=True)
class Rate:
    burst: int  # actions allowed at once
    per_minute: float  # and then this many a minute

    @classmethod
    def parse(cls, text: str, name: str) -> "Rate":
        """`"60/300"`: a burst of 60, then 300 a minute. Raises ValueError naming the setting."""
        try:
            burst, per_minute = (float(part) for part in text.split("/"))
        except ValueError:
            raise ValueError(f"{name}={text!r}: write BURST/PER_MINUTE, e.g. 60/300") from None
        if burst < 1 or per_minute <= 0 or burst != int(burst):
            raise ValueError(f"{name}={text!r}: the burst is a whole number of at least 1, the rate above 0")
        return cls(int(burst), per_minute)


# name -> (setting, default): what each limit counts and who it counts per.
DEFAULTS: dict[str, tuple[str, Rate]] = {
    "signup": ("PLEIN_LIMIT_SIGNUP", Rate(120, 300)),  # sign-ups per address
    "help": ("PLEIN_LIMIT_HELP", Rate(5, 10)),  # help messages per participant
    "broadcast": ("PLEIN_LIMIT_BROADCAST", Rate(10, 30)),  # broadcasts per moderator or host
    "vote": ("PLEIN_LIMIT_VOTE", Rate(30, 60)),  # card votes per participant
    "card": ("PLEIN_LIMIT_CARD", Rate(10, 30)),  # cards added or edited per participant
    "role": ("PLEIN_LIMIT_ROLE", Rate(20, 60)),  # Jitsi role reports per participant
}


def rates_from(env) -> dict[str, Rate]:
    """Every limit's rate from the settings (`env(name)`), the defaults where unset."""
    rates = {}
    for name, (setting, default) in DEFAULTS.items():
        raw = env(setting)
        rates[name] = Rate.parse(raw, setting) if raw else default
    return rates


class Limits:
    def __init__(self, r: redis.Redis, keys: Keys, rates: dict[str, Rate] | None = None, *, enabled: bool = True):
        self.r = r
        self.keys = keys
        self.rates = {name: default for name, (_, default) in DEFAULTS.items()} | (rates or {})
        self.enabled = enabled
        self._take = r.register_script(_TAKE)

    def take(self, name: str, who: str, cost: int = 1, now: float | None = None) -> None:
        """Count one action of `who` against limit `name`; raises `rate_limited` (429) when over it.
        `now` (seconds) only for tests that play a minute in an instant; else Redis's clock counts."""
        if not self.enabled:
            return
        rate = self.rates[name]
        wait_ms = self._take(keys=[self.keys("limit", name, who)],
                             args=[rate.burst, rate.per_minute / 60000, cost, "" if now is None else int(now * 1000)])
        if wait_ms:
            seconds = max(1, -(-int(wait_ms) // 1000))
            raise PleinError("rate_limited", 429, details={"retry_after": seconds}, seconds=seconds)

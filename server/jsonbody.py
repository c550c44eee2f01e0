"""JSON with a depth limit, for request bodies and Socket.IO packets: deep nesting is a coded error
(`json_too_deep`), never a RecursionError (a 500 over HTTP, a traceback and no answer over Socket.IO)."""
from __future__ import annotations

import json

from flask.json.provider import DefaultJSONProvider

from rooms.errors import PleinError

# No request body of the API nests deeper than 3 levels; 32 leaves room and stays far from Python's stack.
MAX_DEPTH = 32


def too_deep(value, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON value nests deeper than `limit` (iterative: no recursion of our own)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def loads_limited(text, **kwargs):
    """json.loads, refusing (PleinError json_too_deep) what nests deeper than MAX_DEPTH."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:  # the C scanner gives up near Python's recursion limit
        raise PleinError("json_too_deep", 400, max=MAX_DEPTH) from None
    if too_deep(value):
        raise PleinError("json_too_deep", 400, max=MAX_DEPTH)
    return value


TOO_DEEP_EVENT = "plein:too-deep"


class SocketJSON:
    """The JSON module of Socket.IO packets. A packet nested too deeply decodes as the event
    TOO_DEEP_EVENT (its ack id is read before the JSON), whose handler answers `json_too_deep`:
    the client gets a coded answer and the server no RecursionError."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text, **kwargs):
        try:
            return loads_limited(text, **kwargs)
        except PleinError:
            return [TOO_DEEP_EVENT]


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies through loads_limited (get_json raises json_too_deep)."""

    def loads(self, s, **kwargs):
        return loads_limited(s, **kwargs)

"""Redis URLs and Redis errors as Plein reads them (no Redis needed: nothing here connects)."""
from __future__ import annotations

import pytest
import redis

from rooms.store import connect, queue_channel
from rooms.storage import is_full_error, storage_error


def test_a_sentinel_url_names_the_service_and_the_database():
    client = connect("redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/3/plein")
    pool = client.connection_pool
    assert pool.service_name == "plein" and pool.connection_kwargs["db"] == 3
    assert pool.connection_kwargs["password"] == "pw"
    assert [s.connection_pool.connection_kwargs["port"] for s in pool.sentinel_manager.sentinels] == [26379, 26380]
    assert queue_channel(client, "avond") == "plein:avond:db3"  # as with a plain URL: the channel names the db


def test_a_sentinel_url_without_a_service_is_refused_with_the_form_to_use():
    with pytest.raises(ValueError, match="name the service"):
        connect("redis+sentinel://127.0.0.1:26379/0")


@pytest.mark.parametrize("exc, code", [
    (redis.exceptions.OutOfMemoryError("command not allowed when used memory > 'maxmemory'."), "storage_full"),
    (redis.exceptions.ResponseError("Error running script: OOM command not allowed when used memory > 'maxmemory'."),
     "storage_full"),
    (redis.exceptions.ConnectionError("Error 111 connecting"), "redis_down"),
    (redis.exceptions.TimeoutError("Timeout reading"), "redis_down"),
    (redis.exceptions.ResponseError("WRONGTYPE"), "redis_down"),
])
def test_redis_errors_say_full_or_away(exc, code):
    assert is_full_error(exc) == (code == "storage_full")
    error = storage_error(exc)
    assert error.code == code and error.status == 503
    assert error.message("nl") and error.message("en") and error.message("nl") != error.message("en")

"""Sending pushes: every emit goes through the Socket.IO Redis message queue to every worker."""
from __future__ import annotations

from rooms.evening import Push


def send(pushes: list[Push]) -> None:
    from .app import socketio
    for push in pushes:
        socketio.emit(push.event, push.data, to=push.to)

"""Sending what the services decided: socket regroupings first, then messages, in order.

Everything goes through the Socket.IO Redis message queue, so a socket held by another worker is
moved (enter_room/leave_room travel on the same channel) before the message that follows reaches it.
"""
from __future__ import annotations

from rooms.evening import Disconnect, Push, Regroup


def send(items: list[Push | Regroup | Disconnect], local: bool = False) -> None:
    """`local`: messages to this worker's own sockets only (each worker heals its own: server/queue.py)."""
    from .app import socketio
    for item in items:
        if isinstance(item, Disconnect):
            for sid in item.sids:
                socketio.server.disconnect(sid, namespace="/")
        elif isinstance(item, Regroup):
            for sid in item.sids:
                for channel in item.leave:
                    socketio.server.leave_room(sid, channel, namespace="/")
                for channel in item.enter:
                    socketio.server.enter_room(sid, channel, namespace="/")
        elif local:
            socketio.server.emit(item.event, item.data, to=item.to, namespace="/", ignore_queue=True)
        else:
            socketio.emit(item.event, item.data, to=item.to)

"""The floor of benchmarks/scale.py: a bare Flask-SocketIO server with what Plein's transport has and nothing
else (gevent under the same gunicorn settings, WebSocket only, the same Redis message queue, the same
ping interval and per-message compression). `POST /broadcast {"version": v, "bytes": n}` emits one `state`
of about n bytes to every socket, as a plenary transition would; `/healthz` answers 200.

    REDIS_URL=redis://127.0.0.1:6379/12 gunicorn -c python:server.gunicorn_conf --chdir benchmarks floor:app
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request
from flask_socketio import SocketIO, emit

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent", message_queue=os.environ["REDIS_URL"], channel="plein-floor",
                    transports=["websocket"], ping_interval=20, ping_timeout=20, cors_allowed_origins="*")


@app.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@app.post("/broadcast")
def broadcast():
    body = request.get_json(force=True)
    payload = {"version": body["version"], "filler": "x" * max(0, int(body.get("bytes", 1500)) - 40)}
    socketio.emit("state", payload)
    return jsonify({"version": body["version"]})


@socketio.on("connect")
def connect(auth=None):
    emit("state", {"version": 0})  # as Plein greets every socket with its state


"""Plein's web server: HTTP views, JSON API, Socket.IO handlers, the clock ticker and the CLI.

This module stays free of imports so that `plein serve` can let gevent patch the standard library
before Flask, redis or requests are loaded; the factory itself lives in `server.app`.
"""


def create_app(test_config=None):
    """Build the app for one evening (see `server.app.create_app`)."""
    from .app import create_app as _create_app
    return _create_app(test_config)

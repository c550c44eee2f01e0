"""Plein's own log lines, and secrets out of every log.

`configure(level)` gives the `plein.*` loggers (ticker leadership and transitions, the message queue, notes)
one handler on stderr: time, level, logger, message, with secrets masked. `PLEIN_LOG_LEVEL` sets the level
(default INFO).

Secrets out of the logs: the moderator key (`?key=`), personal links (`/p/<token>`) and host links
(`/host/<session>/<token>`) are masked in every line gunicorn writes (access and error log alike).

Use it with `gunicorn --logger-class server.logs.MaskingLogger` (the Procfile does). `plein serve`
writes no access log at all (gevent's server runs with `log=None`).
"""
from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

HIDDEN = "[hidden]"
_SECRETS = [
    re.compile(r"([?&;]key=)[^&;#\s\"]+"),  # the moderator link, right or wrong: it may be a near miss
    re.compile(r"(/e/[^/?#\s\"]+/p/)[^/?#\s\"]+"),  # a personal link from import-registrations
    re.compile(r"(/e/[^/?#\s\"]+/host/[^/?#\s\"]+/)[^/?#\s\"]+"),  # a session's host link
]


def mask(text: str) -> str:
    """The line with every secret of a link replaced by [hidden]."""
    for pattern in _SECRETS:
        text = pattern.sub(r"\g<1>" + HIDDEN, text)
    return text


class MaskSecrets(logging.Filter):
    """A logging filter that masks secrets in the formatted message (request line, referer, path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class MaskingLogger(Logger):
    """gunicorn's logger with MaskSecrets on its access and error logs."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, MaskSecrets) for f in log.filters):
                log.addFilter(MaskSecrets())


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def configure(level: str = "INFO") -> None:
    """Give the `plein` loggers their handler (once per process; a second call only sets the level)."""
    logger = logging.getLogger("plein")
    logger.setLevel(level)
    if any(getattr(h, "plein", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()  # stderr: gunicorn's and plein serve's output alike
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(MaskSecrets())
    handler.plein = True
    logger.addHandler(handler)
    logger.propagate = False  # not twice when the root logger has a handler too (gunicorn's, a test runner's)

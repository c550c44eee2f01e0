"""Secrets out of the logs: the moderator key (`?key=`), personal links (`/p/<token>`) and host links
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

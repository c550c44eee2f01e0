"""WSGI entry point for gunicorn (see Procfile): `gunicorn -k gevent -w 1 server.wsgi:app`."""
from server import create_app

app = create_app()

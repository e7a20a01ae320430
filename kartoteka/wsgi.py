"""WSGI entry point (gunicorn kartoteka.wsgi): each worker loads the application, warms it up
and freezes what it holds before its first request (kartoteka.core.warmup)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
application = get_wsgi_application()

from kartoteka.core.warmup import process_ready  # noqa: E402  (needs the apps loaded)

process_ready()

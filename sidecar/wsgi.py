"""WSGI entry point (gunicorn sidecar.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sidecar.settings")
application = get_wsgi_application()

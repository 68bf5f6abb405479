"""WSGI entry point of the bench server (bench.load serves it under granian): the same
application wrapping as production's `cms.wsgi`, with the bench settings."""

import os

from django.core.wsgi import get_wsgi_application

from cms.heap import web_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
application = web_application(get_wsgi_application())

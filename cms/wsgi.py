import os

from django.core.wsgi import get_wsgi_application

from cms.heap import web_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

application = web_application(get_wsgi_application())

# One image for web, worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN apt-get update \
    && apt-get install -y --no-install-recommends libvoikko1 voikko-fi libpq5 \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv==0.13.8

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
# collectstatic never connects: a named server keeps base.py from starting an embedded one.
RUN DATABASE_URL=postgres://build@localhost/pesa DJANGO_SETTINGS_MODULE=cms.settings.dev python manage.py collectstatic --no-input

RUN useradd --create-home pesa && mkdir -p /app/var/media && chown -R pesa /app/var
USER pesa
EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--blocking-threads", "1", "--access-log", "cms.wsgi:application"]

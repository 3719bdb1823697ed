# alscare for a clinic: the web app (`alscare serve`) and the delivery worker (`alscare worker`) from one image.
# Debian slim with Python 3.11; runtime dependencies only (no test tools); Pango for WeasyPrint's PDFs;
# the PostgreSQL client tools for `alscare backup` / `alscare restore`; runs as an unprivileged user.

# --- build: a wheel of alscare and of everything it needs -----------------------------------------------
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- runtime ----------------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 alscare \
    && useradd --system --uid 10001 --gid alscare --home-dir /var/lib/alscare --create-home --shell /usr/sbin/nologin alscare
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels alscare==0.1.0 \
    && rm -rf /wheels
ENV ALSCARE_DATA_DIR=/var/lib/alscare \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /var/lib/alscare
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz?checks=web', timeout=4).status == 200 else 1)"]
CMD ["alscare", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]

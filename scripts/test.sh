#!/usr/bin/env bash
# The whole test suite: lint, format, types, then every test (unit, integration, functional, browser)
# on SQLite and PostgreSQL. Installs what it needs: called by `make test` after the venv is ready.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# Browser tests use Debian's Chromium (never a downloaded browser) and axe-core from npm; PDF documents need
# Debian's Pango (WeasyPrint) and their tests turn them into PNG and text with poppler-utils.
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/bin/pdftoppm ] || missing="$missing poppler-utils"
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing="$missing libpango-1.0-0 libpangoft2-1.0-0"
[ -d /usr/share/fonts/truetype/dejavu ] || missing="$missing fonts-dejavu-core"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "!!$missing missing and cannot be installed here: browser and PDF tests will be skipped" >&2
  fi
fi
if [ -f package.json ] && [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "== installing axe-core from npm"
  npm ci --no-audit --no-fund --silent
fi

# PostgreSQL is half the suite: start the local server if it stopped (the machine's own command).
if ! $BIN/python -c "import psycopg; psycopg.connect('host=127.0.0.1 port=5432 dbname=test user=postgres', connect_timeout=3).close()" 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "== starting the local PostgreSQL server"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi

echo "== ruff"
$BIN/ruff check src tests bench
$BIN/ruff format --check src tests bench
echo "== mypy"
$BIN/mypy
echo "== pytest"
$BIN/pytest "$@"

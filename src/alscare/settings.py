"""Settings, read from the environment once, in the app factory or CLI — never at import time.

Every variable is named ``ALSCARE_*``; `.env.example` at the repository root lists them. A bad value fails
loudly with the variable's name and a hint, so a clinic's operator can fix it without reading code.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Emergency numbers by region. ITU/national numbering plans: 112 across the EU (and answered on most
# GSM networks), 999 in the UK, 911 in North America, 000 in Australia, 111 in New Zealand.
EMERGENCY_NUMBERS: Mapping[str, str] = {
    "US": "911",
    "CA": "911",
    "GB": "999",
    "IE": "112",
    "AU": "000",
    "NZ": "111",
}
DEFAULT_EMERGENCY_NUMBER = "112"

# The clinic's time zone when ALSCARE_TIME_ZONE is not set, by the locale's region (IANA names); UTC otherwise.
# Pages show times in it; the browser's own time zone replaces it where scripts run (web/static/local-time.js).
TIME_ZONES: Mapping[str, str] = {"GB": "Europe/London", "IE": "Europe/Dublin"}


def emergency_number_for_locale(locale: str) -> str:
    """The emergency number for a locale such as ``en-GB`` or ``de_DE``; 112 when unknown."""
    region = locale.replace("_", "-").split("-")[-1].upper() if "-" in locale or "_" in locale else ""
    return EMERGENCY_NUMBERS.get(region, DEFAULT_EMERGENCY_NUMBER)


class SettingsError(RuntimeError):
    """A configuration value is missing or malformed."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    sender: str = "alscare@localhost"


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: bytes
    locale: str = "en-GB"
    base_url: str = "http://127.0.0.1:8000"
    cookie_secure: bool = True
    smtp: SmtpSettings | None = None
    session_hours: int = 12
    outbox_dir: Path = field(default=Path("outbox"))
    # Open alerts nobody has acknowledged escalate after this many minutes (level n at (n + 1) times it).
    alert_escalate_minutes: int = 30
    # An alert escalates at most this many times (issue 11: once per level, never a storm of emails).
    alert_escalation_levels: int = 3
    # Reverse proxies whose X-Forwarded-For is believed (ALSCARE_TRUSTED_PROXIES); nobody's by default, so a
    # client cannot forge its address in the throttle or the audit trail.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Let webhooks reach private, loopback and link-local addresses (a receiver on the clinic's own network).
    webhook_allow_private: bool = False
    # Database connections per web process (ALSCARE_DB_POOL_SIZE): also how many requests may hold a session at
    # once; the server's thread limit is sized from it (web/admission.py, storage/db.py).
    db_pool_size: int = 10
    # /healthz turns red below this much free disk where the data lives (ALSCARE_MIN_FREE_DISK_MB).
    min_free_disk_mb: int = 200
    # /healthz turns red when the worker's last heartbeat is older than this (ALSCARE_WORKER_STALE_SECONDS);
    # 0 leaves the heartbeat out (a test server with no worker).
    worker_stale_seconds: int = 120
    # /healthz turns red when a due notification has waited longer than this (ALSCARE_MAX_BACKLOG_MINUTES).
    max_backlog_minutes: int = 15
    # A notification that cannot be delivered is retried with back-off for this long after it was queued, then
    # given up and the clinic's administrators are told (ALSCARE_NOTIFICATION_RETRY_HOURS).
    notification_retry_hours: int = 24
    # Delivered notifications are deleted by the worker this many days after they were sent; failed ones are
    # kept for audit (ALSCARE_NOTIFICATION_RETENTION_DAYS).
    notification_retention_days: int = 30
    # IANA time zone for times shown on pages (ALSCARE_TIME_ZONE); "" means the locale's (``TIME_ZONES``).
    time_zone: str = ""

    @property
    def display_time_zone(self) -> str:
        if self.time_zone:
            return self.time_zone
        region = self.locale.replace("_", "-").rpartition("-")[2].upper()
        return TIME_ZONES.get(region, "UTC")

    @property
    def default_emergency_number(self) -> str:
        return emergency_number_for_locale(self.locale)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _int(environ, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be 1 or more, got {value}")
    return value


def _networks(environ: Mapping[str, str], name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    raw = environ.get(name) or ""
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name} must list IP addresses or networks separated by commas (e.g. 10.0.0.5,10.1.0.0/16), "
                f"got {part!r}"
            ) from None
    return tuple(out)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by its owner only (0700); tighten it if it already exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def _secret_key(environ: Mapping[str, str], data_dir: Path) -> bytes:
    """The key that signs sessions and CSRF tokens.

    In production it comes from ``ALSCARE_SECRET_KEY``. On the embedded default (one family on a laptop)
    one is generated on first start and kept in the data folder, readable only by its owner.
    """
    raw = environ.get("ALSCARE_SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise SettingsError("ALSCARE_SECRET_KEY must be at least 32 characters")
        return raw.encode()
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_bytes().strip()
    private_dir(data_dir)
    key = secrets.token_urlsafe(48).encode()
    # Created 0600 from the first byte (no window in which another user could open it).
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment (``os.environ`` unless given)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("ALSCARE_DATA_DIR") or "data").resolve()
    database_url = env.get("ALSCARE_DATABASE_URL") or f"sqlite:///{data_dir / 'alscare.db'}"
    if not (database_url.startswith("sqlite") or database_url.startswith("postgresql")):
        raise SettingsError("ALSCARE_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
    smtp = None
    if env.get("ALSCARE_SMTP_HOST"):
        smtp = SmtpSettings(
            host=env["ALSCARE_SMTP_HOST"],
            port=_int(env, "ALSCARE_SMTP_PORT", 587),
            username=env.get("ALSCARE_SMTP_USERNAME") or None,
            password=env.get("ALSCARE_SMTP_PASSWORD") or None,
            starttls=_bool(env, "ALSCARE_SMTP_STARTTLS", True),
            sender=env.get("ALSCARE_SMTP_SENDER") or "alscare@localhost",
        )
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=_secret_key(env, data_dir),
        locale=env.get("ALSCARE_LOCALE") or "en-GB",
        base_url=(env.get("ALSCARE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        cookie_secure=_bool(env, "ALSCARE_COOKIE_SECURE", True),
        smtp=smtp,
        session_hours=_int(env, "ALSCARE_SESSION_HOURS", 12),
        outbox_dir=Path(env.get("ALSCARE_OUTBOX_DIR") or (data_dir / "outbox")).resolve(),
        alert_escalate_minutes=_int(env, "ALSCARE_ALERT_ESCALATE_MINUTES", 30),
        alert_escalation_levels=_positive(env, "ALSCARE_ALERT_ESCALATION_LEVELS", 3),
        trusted_proxies=_networks(env, "ALSCARE_TRUSTED_PROXIES"),
        webhook_allow_private=_bool(env, "ALSCARE_WEBHOOK_ALLOW_PRIVATE", False),
        db_pool_size=_positive(env, "ALSCARE_DB_POOL_SIZE", 10),
        min_free_disk_mb=_int(env, "ALSCARE_MIN_FREE_DISK_MB", 200),
        worker_stale_seconds=_int(env, "ALSCARE_WORKER_STALE_SECONDS", 120),
        max_backlog_minutes=_positive(env, "ALSCARE_MAX_BACKLOG_MINUTES", 15),
        notification_retry_hours=_positive(env, "ALSCARE_NOTIFICATION_RETRY_HOURS", 24),
        notification_retention_days=_positive(env, "ALSCARE_NOTIFICATION_RETENTION_DAYS", 30),
        time_zone=_time_zone(env, "ALSCARE_TIME_ZONE"),
    )


def _time_zone(environ: Mapping[str, str], name: str) -> str:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return ""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{name} must be an IANA time zone such as Europe/London, not {raw!r}") from None
    return raw

"""What every long-running alscare process does first: private files, and the key that seals secrets."""

from __future__ import annotations

import os

from sqlalchemy import Engine

from alscare.security.secretbox import use_key
from alscare.settings import Settings, private_dir


def prepare_process(settings: Settings) -> None:
    """Files this process creates are its owner's alone (umask 077: databases, outbox mail, backups), the data
    folder is 0700, and secrets at rest are sealed with the settings' key (issue 14, finding 7)."""
    os.umask(0o077)
    private_dir(settings.data_dir)
    use_key(settings.secret_key)


def seal_existing_secrets(engine: Engine) -> int:
    """Seal two-step keys and webhook secrets stored before sealing existed; returns how many."""
    from alscare.actions.security import seal_legacy_secrets
    from alscare.storage.db import make_sessionmaker, transaction

    with transaction(make_sessionmaker(engine)) as db:
        return seal_legacy_secrets(db)

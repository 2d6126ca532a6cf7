"""A patient is grouped by a keyed hash: the reference a sender gives is never stored.

Senders are asked for an opaque `patient_ref`, but a careless one will send an MRN. So the
service keeps only HMAC-SHA256(key, reference), cut to 128 bits: the same patient still groups
(their unread studies go to one reader), and a database dump alone cannot be searched for a
known MRN. The key is `NIGHTHAWK_PATIENT_KEY` where set (production: from a secret store, so
the key is not in the database it protects), else a random one the schema migration stored in
`practice_state`. Every process of a practice must use the same key; changing it splits the
open studies of a patient from the ones that follow (it never mixes two patients).
"""

from __future__ import annotations

import hashlib
import hmac
import threading

from sqlalchemy import Engine, select

from models.tables import PRACTICE_STATE
from nighthawk.service.db import read_transaction

PREFIX = "ph_"  # says what it is to whoever reads a row: a hash, not the sender's reference
DIGEST_BYTES = 16


def pseudonym(key: bytes, reference: str) -> str:
    digest = hmac.new(key, reference.encode(), hashlib.sha256).digest()[:DIGEST_BYTES]
    return PREFIX + digest.hex()


class PatientKey:
    """The practice's key, read once from the settings or the database."""

    def __init__(self, engine: Engine, configured: str | None = None) -> None:
        self._engine = engine
        self._key = configured.encode() if configured else None
        self._lock = threading.Lock()

    def key(self) -> bytes:
        with self._lock:
            if self._key is None:
                with read_transaction(self._engine) as connection:
                    stored = connection.execute(select(PRACTICE_STATE.c.patient_key)).scalar()
                if not stored:
                    raise RuntimeError("practice_state has no patient key: run the migrations")
                self._key = bytes.fromhex(stored)
            return self._key

    def pseudonym(self, reference: str | None) -> str | None:
        return None if reference is None else pseudonym(self.key(), reference)

"""Named bearer tokens with roles; only a SHA-256 of each token is stored.

Tokens are 256-bit random strings, so a fast unsalted hash is enough: there is nothing to
brute-force, unlike a password.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from models.tables import FACILITY, RADIOLOGIST, TOKEN, Role
from nighthawk.service import audit
from nighthawk.service.db import read_transaction, write_transaction
from nighthawk.service.errors import Conflict, Forbidden, NotFound, Unprocessable

TOKEN_PREFIX = "nh_"
_CACHE_SECONDS = 5.0  # a revoked token stops working within this many seconds


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name, its role and, for a site, its facilities; for a
    reader-bound token, the one radiologist it acts as."""

    name: str
    role: Role
    facilities: frozenset[str] = frozenset()
    radiologist: str | None = None

    def sees_facility(self, facility: str) -> bool:
        return self.role is not Role.SITE or facility in self.facilities

    def act_as(self, radiologist: str) -> str:
        """The person this call acts for; a reader-bound token acts only as its reader."""
        if self.radiologist is not None and radiologist != self.radiologist:
            raise Forbidden(
                f"radiologist: this token acts only as {self.radiologist}, not {radiologist}"
            )
        return radiologist


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(
    engine: Engine,
    *,
    name: str,
    role: Role,
    now: datetime,
    facilities: list[str] | None = None,
    radiologist: str | None = None,
    token: str | None = None,
    actor: str | None = None,
) -> str:
    """Store a new named token and return its secret (shown once, never stored); with
    `actor`, audited in the same transaction."""
    facilities = sorted(set(facilities or []))
    if role is Role.SITE and not facilities:
        raise Unprocessable("facility", "a site token needs at least one facility")
    if role is not Role.SITE and facilities:
        raise Unprocessable("facility", "only site tokens are limited to facilities")
    if (role is Role.RADIOLOGIST) != (radiologist is not None):
        raise Unprocessable(
            "radiologist", "a radiologist token names exactly one radiologist; others none"
        )
    secret = token or new_token()
    try:
        with write_transaction(engine) as connection:
            _require_known(connection, facilities, radiologist)
            connection.execute(
                insert(TOKEN).values(
                    name=name,
                    token_hash=hash_token(secret),
                    role=role.value,
                    facilities=facilities,
                    radiologist=radiologist,
                    created_at=now,
                    revoked=False,
                )
            )
            if actor is not None:
                audit.record(
                    connection,
                    at=now,
                    actor=actor,
                    action="token.created",
                    entity=f"token:{name}",
                    after={
                        "role": role.value,
                        "facilities": facilities,
                        "radiologist": radiologist,
                    },
                )
    except IntegrityError:
        raise Conflict(f"name: a token named {name!r} already exists") from None
    return secret


def _require_known(connection: Any, facilities: list[str], radiologist: str | None) -> None:
    if facilities:
        known = set(
            connection.execute(select(FACILITY.c.id).where(FACILITY.c.id.in_(facilities))).scalars()
        )
        for index, facility in enumerate(facilities):
            if facility not in known:
                raise Unprocessable(f"facilities[{index}]", f"unknown facility {facility!r}")
    if radiologist is not None:
        found = connection.execute(
            select(RADIOLOGIST.c.id).where(RADIOLOGIST.c.id == radiologist)
        ).first()
        if found is None:
            raise Unprocessable("radiologist", f"unknown radiologist {radiologist!r}")


def revoke_named(engine: Engine, *, name: str, actor: str, now: datetime) -> None:
    """Revoke a token by name for the API, audited; 404 when there is none."""
    with write_transaction(engine) as connection:
        result = connection.execute(update(TOKEN).where(TOKEN.c.name == name).values(revoked=True))
        if not result.rowcount:
            raise NotFound(f"token {name} not found")
        audit.record(
            connection, at=now, actor=actor, action="token.revoked", entity=f"token:{name}"
        )


def ensure_token(engine: Engine, *, name: str, role: Role, token: str, now: datetime) -> None:
    """Make `token` valid under `name` (used for NIGHTHAWK_ADMIN_TOKEN at start-up)."""
    digest = hash_token(token)
    with write_transaction(engine) as connection:
        row = connection.execute(select(TOKEN.c.token_hash).where(TOKEN.c.name == name)).first()
        if row is None:
            connection.execute(
                insert(TOKEN).values(
                    name=name,
                    token_hash=digest,
                    role=role.value,
                    facilities=[],
                    created_at=now,
                    revoked=False,
                )
            )
        elif row.token_hash != digest:
            connection.execute(
                update(TOKEN)
                .where(TOKEN.c.name == name)
                .values(token_hash=digest, role=role.value, revoked=False)
            )


def revoke_token(engine: Engine, *, name: str) -> bool:
    with write_transaction(engine) as connection:
        result = connection.execute(update(TOKEN).where(TOKEN.c.name == name).values(revoked=True))
        return bool(result.rowcount)


class TokenVerifier:
    """Looks tokens up by hash, remembering answers briefly to spare the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal | None:
        digest = hash_token(token)
        moment = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and moment - hit[0] < _CACHE_SECONDS:
            return hit[1]
        principal = self._lookup(digest)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (moment, principal)
        return principal

    def _lookup(self, digest: str) -> Principal | None:
        with read_transaction(self.engine) as connection:
            row = connection.execute(
                select(
                    TOKEN.c.name,
                    TOKEN.c.role,
                    TOKEN.c.facilities,
                    TOKEN.c.radiologist,
                    TOKEN.c.revoked,
                ).where(TOKEN.c.token_hash == digest)
            ).first()
        if row is None or row.revoked:
            return None
        return Principal(row.name, Role(row.role), frozenset(row.facilities or []), row.radiologist)

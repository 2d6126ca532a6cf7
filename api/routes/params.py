"""Path and query parameter types shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

EntityId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
        description="Letters, digits and - _ . : (up to 128).",
    ),
]
StudyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]

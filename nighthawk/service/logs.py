"""What the service writes to its logs: never a credential, a body or SQL parameters.

SQL parameters are kept out by the engines (`hide_parameters`), bodies are never logged, and
the access log drops the value of any query parameter that carries a credential
(`?access_token=...` is refused by the API, but uvicorn logs the request line first).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# Query parameters whose values are secrets wherever they appear.
_CREDENTIAL = re.compile(
    r"(?i)([?&](?:access_token|token|api_key|apikey|key|password|secret|auth)=)[^&#\s]*"
)


def redact(text: str) -> str:
    """`/v1/studies?access_token=nh_abc&limit=5` -> `/v1/studies?access_token=***&limit=5`."""
    return _CREDENTIAL.sub(r"\1***", text)


class RedactCredentials(logging.Filter):
    """For uvicorn's access log: the request path is its third argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def access_log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up, with the access log's credentials redacted."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_credentials"] = {
        "()": "nighthawk.service.logs.RedactCredentials"
    }
    config["handlers"]["access"]["filters"] = ["redact_credentials"]
    return config

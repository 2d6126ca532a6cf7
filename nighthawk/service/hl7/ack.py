"""Acknowledgements (original mode): MSH + MSA, and ERR naming the field on an error.

Built here rather than with python-hl7's `create_ack` so the same code answers a message
that could not be parsed at all (no MSH to copy from) and one that could.
"""

from __future__ import annotations

import re
from datetime import datetime

from nighthawk.service.hl7.orders import Header

ACCEPTED, ERROR, REJECTED = "AA", "AE", "AR"
APPLICATION = "NIGHTHAWK"
# HL7 table 0357: application internal error.
APPLICATION_ERROR = "207"
_SEPARATORS = re.compile(r"[|^~\\&\r\n\x0b\x1c]")


def ack(
    header: Header | None,
    code: str,
    *,
    now: datetime,
    control_id: str,
    text: str = "",
    field: str | None = None,
    error_code: str = APPLICATION_ERROR,
) -> bytes:
    """The ACK text for `header` (None: the message had no readable MSH)."""
    sent = header or Header("", "", "", "", "", "P", "2.5.1", "")
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            APPLICATION,
            _clean(sent.receiving_facility) or APPLICATION,
            _clean(sent.sending_application),
            _clean(sent.sending_facility),
            now.strftime("%Y%m%d%H%M%S"),
            "",
            _ack_type(sent.message_type),
            control_id,
            _clean(sent.processing_id),
            _clean(sent.version),
        ]
    )
    segments = [msh, f"MSA|{code}|{_clean(sent.control_id)}|{_clean(text)[:80]}"]
    if code != ACCEPTED:
        segments.append(_err(field, error_code, text))
    return ("\r".join(segments) + "\r").encode()


def _ack_type(message_type: str) -> str:
    """ACK with the trigger event it answers (ACK^O01), or plain ACK when there was none."""
    trigger = message_type.split("^")[1] if "^" in message_type else ""
    return f"ACK^{_clean(trigger)}" if trigger else "ACK"


def _err(field: str | None, error_code: str, text: str) -> str:
    """ERR for v2.3.1 readers (ERR-1, location and code) and v2.5 ones (ERR-2 to ERR-4, 8)."""
    segment, _, number = (field or "").partition("-")
    number = number.split(".")[0]
    location = f"{segment}^1^{number}" if segment else ""
    code = f"{error_code}&{_clean(text)[:60]}&HL70357"
    return "|".join(
        [
            "ERR",
            f"{location}^{code}" if location else f"^^^{code}",
            location,
            f"{error_code}^^HL70357",
            "E",
            "",
            "",
            "",
            _clean(text)[:200],
        ]
    )


def _clean(value: str) -> str:
    """Text put in an ACK never carries a separator (it would shift every field after it)."""
    return _SEPARATORS.sub(" ", value).strip()

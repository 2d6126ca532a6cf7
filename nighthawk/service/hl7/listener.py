"""The MLLP listener (`0x0B` message `0x1C 0x0D`), on the API's event loop.

python-hl7's asyncio streams do the framing. Each connection's messages are handled one at a
time, in order (an ACK answers the message before it), in a worker thread: the service is
synchronous and must not block the loop that also serves HTTP. A bad message gets its ACK and
the connection goes on; one over `max_bytes` is refused (AR) and the connection is closed
after the sender has had the ACK, since the rest of an unframed block cannot be told from
the next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime
from functools import partial

from hl7.mllp import HL7StreamReader, HL7StreamWriter, InvalidBlockError, start_hl7_server

from nighthawk.service.hl7.ack import REJECTED, ack
from nighthawk.service.hl7.intake import Hl7Intake

log = logging.getLogger("nighthawk.hl7")

MAX_MESSAGE_BYTES = 1_048_576
# After refusing an oversized message, how long to wait for the sender to hang up before
# closing anyway (closing with its bytes unread would reset the connection, losing the ACK).
_DRAIN_SECONDS = 5.0


async def start_listener(
    intake: Hl7Intake, host: str, port: int, *, max_bytes: int = MAX_MESSAGE_BYTES
) -> asyncio.Server:
    # The limit counts the start byte too: a message of exactly max_bytes is taken.
    server: asyncio.Server = await start_hl7_server(
        partial(_serve, intake), host, port, limit=max_bytes + 1
    )
    return server


async def _serve(intake: Hl7Intake, reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
    try:
        while True:
            try:
                block = await reader.readblock()
            except asyncio.IncompleteReadError:
                return  # the sender hung up (between messages, or mid-message)
            except InvalidBlockError:
                await _reply(writer, _refusal("no MLLP start block"))
                continue
            except ValueError:
                await _reply(writer, _refusal("message over 1 MiB"))
                await _hang_up(reader, writer)
                return
            answer = await asyncio.to_thread(intake.handle, block)
            await _reply(writer, answer.ack)
    except ConnectionError:
        return
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def _refusal(text: str) -> bytes:
    log.info("hl7: %s -> AR", text)
    return ack(None, REJECTED, now=datetime.now(UTC), control_id=uuid.uuid4().hex[:20], text=text)


async def _reply(writer: HL7StreamWriter, body: bytes) -> None:
    writer.writeblock(body)
    await writer.drain()


async def _hang_up(reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
    """Half-close, then discard what the sender still sends until it closes its side."""
    with contextlib.suppress(Exception):
        writer.write_eof()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(_DRAIN_SECONDS):
            while await reader.read(65536):
                pass

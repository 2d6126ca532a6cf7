"""A plain-socket MLLP client and message builders for the HL7 tests (and the benchmark)."""

from __future__ import annotations

import socket

START, END = b"\x0b", b"\x1c\x0d"


def segment(name: str, fields: dict[int, str]) -> str:
    """`name|...` with each numbered field in place, empty ones between."""
    size = max(fields, default=0)
    return "|".join([name, *(fields.get(index, "") for index in range(1, size + 1))])


def msh(
    control_id: str, kind: str = "ORM^O01", facility: str = "HOSP-A", version: str = "2.3.1"
) -> str:
    # MSH-1 is the field separator itself, so MSH-2 is the first field written after it.
    return "|".join(
        [
            "MSH",
            "^~\\&",
            "RIS",
            facility,
            "NIGHTHAWK",
            "NH",
            "20261201060000",
            "",
            kind,
            control_id,
            "P",
            version,
        ]
    )


PATIENT_ID = "MRN4711"
PATIENT_NAME = "SECRETNAME"
BIRTH_DATE = "19611123"
PID = segment(
    "PID",
    {
        1: "1",
        3: f"{PATIENT_ID}^^^HOSPA^MR",
        5: f"{PATIENT_NAME}^JOHN",
        7: BIRTH_DATE,
        8: "M",
        11: "1 Main St^^Cheyenne^WY^82001",
    },
)


def orm(
    control_id: str,
    *,
    control: str = "NW",
    accession: str = "ACC-1",
    modality: str = "CT",
    priority: str = "S",
    facility: str = "HOSP-A",
    location: str = "",
    procedure: str = "CTHEAD^CT head without contrast^L",
    kind: str = "ORM^O01",
) -> str:
    return "\r".join(
        [
            msh(control_id, kind, facility),
            PID,
            segment("PV1", {1: "1", 2: "E", 3: f"ER^1^1^{location}"}),
            segment("ORC", {1: control, 2: "P-" + accession, 7: f"^^^^^{priority}"}),
            segment(
                "OBR", {1: "1", 2: "P-" + accession, 4: procedure, 18: accession, 24: modality}
            ),
        ]
    )


def omi(
    control_id: str,
    *,
    accession: str = "ACC-2",
    modality: str = "MR",
    priority: str = "A",
    facility: str = "HOSP-A",
    location: str = "",
) -> str:
    return "\r".join(
        [
            msh(control_id, "OMI^O23^OMI_O23", facility, "2.5.1"),
            PID,
            segment("PV1", {1: "1", 2: "E", 3: f"ER^1^1^{location}"}),
            segment("ORC", {1: "NW", 2: "P-" + accession}),
            segment("TQ1", {1: "1", 9: priority}),
            segment("OBR", {1: "1", 2: "P-" + accession, 4: "MRBRAIN^MR brain^L"}),
            segment(
                "IPC",
                {
                    1: accession,
                    2: "REQ-" + accession,
                    3: "1.2.3.4." + accession[-1],
                    4: "SPS-1",
                    5: modality,
                },
            ),
        ]
    )


class MllpClient:
    """One connection; `send` frames a message and returns the ACK's segments by name."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def send_raw(self, payload: bytes) -> str:
        self.sock.sendall(payload)
        return self.receive()

    def send(self, message: str) -> str:
        return self.send_raw(START + message.encode() + END)

    def receive(self) -> str:
        while END not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before an ACK")
            self.buffer += chunk
        block, _, self.buffer = self.buffer.partition(END)
        assert block.startswith(START), block[:20]
        return block[1:].decode()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> MllpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ack_fields(ack: str) -> dict[str, list[str]]:
    """Each segment of an ACK by name, split into fields (index 0 is the name)."""
    return {line.split("|")[0]: line.split("|") for line in ack.split("\r") if line}

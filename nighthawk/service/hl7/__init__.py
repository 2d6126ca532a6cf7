"""HL7 v2 orders over MLLP: `orders` reads messages, `intake` acts on them, `listener` serves."""

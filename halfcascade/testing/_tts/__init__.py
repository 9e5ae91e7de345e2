"""What the local TTS servers share: lifecycle, keys, pacing, records and fault injection.

:mod:`.records` holds the records every server keeps, :mod:`.server` the base class,
:mod:`.strict` the unknown-key-aware validator the providers' ``schema`` modules use.
"""

from .records import FAULT_KINDS, ConnectionRecord, ContextRecord, FaultKind, RequestRecord
from .server import ErrorResponder, KeyCheck, Piece

__all__ = [
    "FAULT_KINDS",
    "ConnectionRecord",
    "ContextRecord",
    "ErrorResponder",
    "FaultKind",
    "KeyCheck",
    "Piece",
    "RequestRecord",
]

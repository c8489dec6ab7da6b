"""m2m-session: an asyncio engine for the M2M session protocol between AI agents."""

from __future__ import annotations

from m2m_session.codecs import Algorithm
from m2m_session.codes import CloseReason, RejectCode, ThreatType
from m2m_session.compression import compress, compress_auto, decompress
from m2m_session.errors import (
    CapabilityMismatchError,
    CompressionError,
    ConfigError,
    ContentBlockedError,
    CryptoError,
    DecompressionError,
    InvalidCodecError,
    InvalidMessageError,
    M2MError,
    NegotiationFailed,
    NetworkError,
    ProtocolError,
    SecurityThreatError,
    SessionExpired,
    SessionNotEstablished,
)
from m2m_session.messages import Hello
from m2m_session.protocol import Negotiated, SessionStats, State
from m2m_session.server import Server, serve
from m2m_session.session import Session, connect

__all__ = [
    "Algorithm",
    "CapabilityMismatchError",
    "CloseReason",
    "CompressionError",
    "ConfigError",
    "ContentBlockedError",
    "CryptoError",
    "DecompressionError",
    "Hello",
    "InvalidCodecError",
    "InvalidMessageError",
    "M2MError",
    "Negotiated",
    "NegotiationFailed",
    "NetworkError",
    "ProtocolError",
    "RejectCode",
    "SecurityThreatError",
    "Server",
    "Session",
    "SessionExpired",
    "SessionNotEstablished",
    "SessionStats",
    "State",
    "ThreatType",
    "compress",
    "compress_auto",
    "connect",
    "decompress",
    "serve",
]

__version__ = "0.1.0"

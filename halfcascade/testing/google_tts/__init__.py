"""A local, protocol-faithful Google Cloud Text-to-Speech gRPC server: :class:`GoogleTTSServer`."""

from .server import GoogleTTSServer, StreamRecord

__all__ = ["GoogleTTSServer", "StreamRecord"]

"""A throw-away certificate authority, so the real client's ``wss://`` reaches a local server.

``google-genai`` forces ``wss://`` whenever an API key is set (the Gemini API needs one), so
the stand-in serves TLS. :class:`LocalCA` (``trustme``) issues a certificate for the
loopback address; the client trusts it through ``HttpOptions.async_client_args["ssl"]`` (or
``SSL_CERT_FILE`` pointing at :meth:`LocalCA.write_pem`): nothing in the client is patched.
"""

from __future__ import annotations

import ssl
from pathlib import Path

__all__ = ["LocalCA"]


class LocalCA:
    """A CA made for one stand-in, and the server certificate it issued."""

    def __init__(self, *hosts: str) -> None:
        import trustme  # a test dependency, imported only when a stand-in starts

        self._ca = trustme.CA()
        self._cert = self._ca.issue_cert(*(hosts or ("127.0.0.1", "localhost")))

    def server_context(self) -> ssl.SSLContext:
        """The server side: the issued certificate and its key."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(ctx)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA (and nothing else)."""
        ctx = ssl.create_default_context()
        self._ca.configure_trust(ctx)
        return ctx

    def write_pem(self, path: str | Path) -> Path:
        """Write the CA certificate (PEM) for clients configured by file (``SSL_CERT_FILE``)."""
        target = Path(path)
        self._ca.cert_pem.write_to_path(str(target))
        return target

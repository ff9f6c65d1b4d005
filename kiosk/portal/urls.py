"""Which portal URLs the kiosk may use. Kept apart from kiosk.portal.client (httpx, pydantic models) so the
configuration can check its portal URL without importing the HTTP stack: that import waits for first use."""
from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is this machine (the sandbox in demos and tests)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def insecure_url_refused(url: str, allow_insecure_http: bool) -> str | None:
    """Why a portal URL may not be used (plain http:// to another machine without the explicit flag), or None."""
    if url.lower().startswith("http://") and not allow_insecure_http and not is_loopback_url(url):
        return (f"the portal URL {url} is plain http:// to another machine: citizens' data would cross the network "
                "unencrypted. Use https://, or set portal.allow_insecure_http = true for a test network only")
    return None

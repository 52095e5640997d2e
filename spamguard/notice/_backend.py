"""Which service a notice names, decided from where comment data really goes."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..errors import InvalidNoticeSettingError
from ._notice import Service, ServiceSpec

__all__ = ["service_for_remote"]


_AKISMET_HOSTS = ("akismet.com",)
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def service_for_remote(remote_url: str | None, *, privacy_url: str | None = None) -> ServiceSpec:
    """The ``service=`` of a notice, from the address of the spam service comment data is sent to.

    ``remote_url`` is the Akismet-compatible service's base URL when one takes part in the
    decisions (an Akismet key is configured and the Guard is not ``local-only``), else ``None``.

    * ``None``, or a service on this machine (a loopback address or ``localhost``, such as
      ``spamguard serve`` on ``127.0.0.1``): ``"local"``, the data stays on the site's server.
    * Akismet's own hosts (``rest.akismet.com``, ``KEY.rest.akismet.com``, any ``*.akismet.com``):
      ``"akismet"``.
    * Any other address, a self-hosted or third-party Akismet-compatible service: a
      :class:`Service` named by the service's host, linking to ``privacy_url`` (the page that
      says what that service does with the data) when given, else to nothing: naming Akismet
      there would be untrue.

    ``spamguard notice`` and :meth:`spamguard.Guard.notice` decide with this one function.
    Raises :class:`~spamguard.InvalidNoticeSettingError` when ``remote_url`` has no host.
    """
    if remote_url is None:
        return "local"
    try:
        host = (urlsplit(remote_url).hostname or "").rstrip(".").lower()
    except ValueError:
        host = ""
    if not host:
        raise InvalidNoticeSettingError("service", f"{remote_url!r} is not the address of a spam service")
    if any(host == name or host.endswith("." + name) for name in _AKISMET_HOSTS):
        return "akismet"
    if host in _LOOPBACK_NAMES or _is_loopback(host):
        return "local"
    return Service(host, privacy_url)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

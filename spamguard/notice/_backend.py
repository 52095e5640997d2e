"""Which service a notice names, decided from where comment data really goes."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..errors import InvalidNoticeSettingError
from ._notice import Service, ServiceSpec

__all__ = ["service_for_remote"]


def service_for_remote(remote_url: str | None, *, privacy_url: str | None = None) -> ServiceSpec:
    """The ``service=`` of a notice, from the address of the spam service comment data is sent to.

    ``remote_url`` is the Akismet-compatible service's base URL when one takes part in the
    decisions (an Akismet key is configured and the Guard is not ``local-only``), else ``None``.

    * ``None``, or a service on this machine (a loopback address, such as ``spamguard serve`` on
      ``127.0.0.1``): ``"local"``, the data stays on the site's server.
    * Akismet's own address (``rest.akismet.com``, any ``*.akismet.com``): ``"akismet"``.
    * Any other address, a self-hosted or third-party Akismet-compatible service: a
      :class:`Service` named by the service's host, linking to ``privacy_url``, the page that
      says what that service does with the data. Naming Akismet there would be untrue and a
      notice with no link tells visitors nothing, so without ``privacy_url`` this raises
      :class:`~spamguard.InvalidNoticeSettingError` asking for it.

    ``spamguard notice`` and :meth:`spamguard.Guard.notice` decide with this one function.
    """
    if remote_url is None:
        return "local"
    try:
        host = urlsplit(remote_url).hostname or ""
    except ValueError:
        host = ""
    if not host:
        raise InvalidNoticeSettingError("service", f"{remote_url!r} is not the address of a spam service")
    if host == "akismet.com" or host.endswith(".akismet.com"):
        return "akismet"
    if host == "localhost" or _is_loopback(host):
        return "local"
    if privacy_url is None:
        raise InvalidNoticeSettingError(
            "privacy_url",
            f"comment data goes to the Akismet-compatible service at {remote_url}, not to Akismet; the notice "
            "names that service and must link to the page saying what it does with the data: give that "
            "page's address",
        )
    return Service(host, privacy_url)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

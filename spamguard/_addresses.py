"""Finding IP and e-mail addresses in free text, so that they can be pseudonymised before storage.

The feedback store keeps comments for retraining; apart from the comment text and the author's
name, nothing it keeps may carry a visitor's address in clear. Addresses hide in many places:
forwarded-address headers, a referrer such as ``mailto:alice@example.org`` or
``https://x.example/?email=alice%40example.org``, a honeypot a bot filled with an address, a
URL whose host is an IP. So the store does not rely on field or header names: it scans every
string it keeps with :func:`replace_addresses`.

What is found:

* e-mail addresses, with ``@`` or its percent-encoding ``%40``; the local part is read up to
  a URL delimiter (``/ ? & = #``) or ``:`` first, so ``mailto:`` and ``?email=`` stay outside
  it, and then, for what that leaves, with every character an address may hold; a quoted local
  part (``"john doe"@example.org``) is found too;
* IPv6 addresses, with ``:`` or ``%3A``, compressed or not, with an embedded IPv4 tail, inside
  brackets (the brackets go too, so a URL stays a URL); the unspecified address ``::`` is left
  (it is nobody's, and ``std::vector`` would otherwise match);
* IPv4 dotted quads (leading zeros allowed).

An address is found when it stands apart from the letters and digits around it: ``x1.2.3.4``
and ``abc2001:db8::1`` are ambiguous and may be read differently. False positives are accepted
where the choice is between them and a leak: a version number that reads as an IPv4 address
(``Chrome/120.0.0.0``) is replaced too. Each search is bounded, so a hostile field costs time
linear in its length.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Literal
from urllib.parse import unquote

Kind = Literal["email", "ip"]

PSEUDONYM_DOMAIN = "pseudonymised.invalid"
"""The domain of the stand-ins: ``.invalid`` is reserved (RFC 2606), so no real address is there."""

_DOMAIN = r"""(?:@|%40)(?:\[[^\]\s]{1,64}\]|[\w-]{1,63}(?:\.[\w-]{1,63}){0,127})"""
# First with a local part that stops at URL delimiters (?email=alice@x.org keeps "?email="), then with
# every character an address may hold, for the rare ones that use them (a/b@x.org, /@x.org).
_EMAILS = (
    re.compile(r"""(?:"[^"\r\n]{1,64}"|[\w.!$%'*+^`{|}~-]{1,64})""" + _DOMAIN),
    re.compile(r"""[\w.!#$%&'*+/=?^`{|}~-]{1,64}""" + _DOMAIN),
)
_COLON = r"(?::|%3[Aa])"
_V6_CANDIDATE = re.compile(
    rf"(?:[0-9A-Fa-f]{{0,4}}{_COLON}){{2,8}}(?:[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}}|[0-9A-Fa-f]{{1,4}})?"
)
_V6_PIECE = re.compile(rf"[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}}|[0-9A-Fa-f]{{1,4}}|{_COLON}")
_ENCODED_COLON = re.compile(_COLON)
_V4 = re.compile(r"(?<![0-9.])([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?![0-9])")


def normalise(value: str, kind: str) -> str:
    """The form an address is hashed in: e-mail lower-cased; IP in its compressed form (else as given)."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return value


def replace_addresses(text: str, stand_in: Callable[[Kind, str], str]) -> str:
    """``text`` with every e-mail and IP address replaced by ``stand_in(kind, normalised address)``.

    E-mail addresses go first (so ``alice@[192.0.2.1]`` is one address), then IPv6, then IPv4.
    Stand-ins at :data:`PSEUDONYM_DOMAIN` are left as they are, so replacing twice changes nothing.
    """
    if "@" in text or "%40" in text:
        for pattern in _EMAILS:
            text = pattern.sub(lambda m: _email(m.group(), stand_in), text)
    if ":" in text or "%3" in text:
        text = _replace_ipv6(text, stand_in)
    if "." in text:
        text = _V4.sub(lambda m: _ipv4(m, stand_in), text)
    return text


def _email(found: str, stand_in: Callable[[Kind, str], str]) -> str:
    address = unquote(found)
    if address.rpartition("@")[2].lower() == PSEUDONYM_DOMAIN:
        return found
    return stand_in("email", normalise(address, "email"))


def _ipv4(match: re.Match[str], stand_in: Callable[[Kind, str], str]) -> str:
    octets = [int(part) for part in match.groups()]
    if max(octets) > 255:
        return match.group()
    return stand_in("ip", ".".join(map(str, octets)))


def _replace_ipv6(text: str, stand_in: Callable[[Kind, str], str]) -> str:
    out: list[str] = []
    done = 0  # text[:done] is settled
    pos = 0
    while True:
        match = _V6_CANDIDATE.search(text, pos)
        if match is None:
            break
        start = match.start()
        if start > 0 and text[start - 1].isalnum():  # glued to a word: std::vector, abc2001:db8::1
            pos = start + 1
            continue
        found = _longest_ipv6(match.group())
        if found is None:
            pos = start + 1
            continue
        length, address = found
        end = start + length
        if start > 0 and text[start - 1] == "[" and text.startswith("]", end):
            start, end = start - 1, end + 1  # a URL's [host] becomes a host name
        out += [text[done:start], stand_in("ip", address)]
        done = pos = end
    out.append(text[done:])
    return "".join(out)


def _longest_ipv6(candidate: str) -> tuple[int, str] | None:
    """(length, normalised address) of the longest IPv6 address ``candidate`` starts with, if any."""
    ends = [m.end() for m in _V6_PIECE.finditer(candidate)]
    for end in reversed(ends):
        text = _ENCODED_COLON.sub(":", candidate[:end])
        if text.count(":") < 2:
            break
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            continue
        if address.is_unspecified:
            return None
        return end, address.compressed
    return None

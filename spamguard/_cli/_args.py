"""Argument types shared by the subcommands: values checked where argparse can say which option is wrong."""

from __future__ import annotations

import argparse
import ipaddress
import math
import re
from collections.abc import Callable

from .._settings import is_http_url


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        return value

    parse.__name__ = f"whole number >= {minimum}"  # what argparse names in its own messages
    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)


def positive_float(text: str) -> float:
    """An argparse ``type`` for a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def cut_off_or_auto(text: str) -> float | str:
    """An argparse ``type`` for a spam cut-off: ``auto``, or a number strictly between 0 and 1."""
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a number between 0 and 1, got {text!r}")
    return value


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def email_address(text: str) -> str:
    """An argparse ``type`` for an e-mail address typed on the command line: NAME@DOMAIN, nothing else.

    Stricter than :class:`~spamguard.Comment`, which keeps whatever a visitor typed (a bot's
    malformed address is evidence, and a dump's ``n/a`` must not lose the record): on the command
    line the operator types the value, and one that is not an address is a slip, not data.
    """
    value = text.strip()
    if not _EMAIL.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not an e-mail address (NAME@DOMAIN)")
    return value


def ip_address(text: str) -> str:
    """An argparse ``type`` for an IPv4 or IPv6 address."""
    try:
        return ipaddress.ip_address(text.strip()).compressed
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IPv4 or IPv6 address") from None


def http_url(text: str) -> str:
    """An argparse ``type`` for an absolute http:// or https:// URL."""
    if not is_http_url(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a full http:// or https:// URL (e.g. https://blog.example/)")
    return text.strip()

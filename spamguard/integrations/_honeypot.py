"""The honeypot: a form field people never see and bots fill in.

:func:`honeypot_html` renders it; the request helpers read it back and put it on the
:class:`~spamguard.Comment` as ``honeypot_field_name`` / ``honeypot_value``, which Akismet
receives as such and the local model and the :class:`~spamguard.Guard` treat as a strong spam signal.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_HONEYPOT_FIELD", "Html", "honeypot_html", "read_honeypot"]

DEFAULT_HONEYPOT_FIELD = "spamguard_hp"
"""The honeypot field's name unless you choose another (not an Akismet parameter, not autofilled)."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")

# Off screen rather than display:none: some bots skip fields hidden with display:none.
_OFF_SCREEN = "position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden"


class Html(str):
    """Text that is already HTML: Jinja2, Django and MarkupSafe insert it without escaping."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"honeypot field name {name!r} is not usable: give 1-64 letters, digits, '_' or '-', "
            "starting with a letter (for example 'spamguard_hp')"
        )
    return name


def honeypot_html(name: str = DEFAULT_HONEYPOT_FIELD, *, label: str = "Leave this field empty") -> Html:
    """The HTML of a hidden honeypot field to put inside a comment ``<form>``.

    The field sits off screen (not ``display:none``, which some bots recognise), is skipped
    by the keyboard (``tabindex="-1"``), by screen readers (``aria-hidden``) and by browser
    autofill (``autocomplete="off"``), so only a bot fills it in. The result marks itself as
    safe HTML (``__html__``) for Jinja2 and Django templates.
    """
    field = _check_name(name)
    field_id = f"{field}-field"
    return Html(
        f'<div class="spamguard-hp" style="{_OFF_SCREEN}" aria-hidden="true">'
        f'<label for="{field_id}">{html.escape(label)}</label>'
        f'<input type="text" id="{field_id}" name="{field}" value="" '
        'autocomplete="off" tabindex="-1">'
        "</div>"
    )


def read_honeypot(form: Mapping[str, Any] | None, name: str | None = DEFAULT_HONEYPOT_FIELD) -> dict[str, str]:
    """The comment fields for the honeypot found in ``form``.

    ``{}`` when there is no form, no ``name`` or the form did not carry the field (so nothing
    is claimed about it); otherwise ``honeypot_field_name`` and ``honeypot_value`` (``""``
    when a person left it empty).
    """
    if form is None or not name:
        return {}
    _check_name(name)
    if name not in form:
        return {}
    value = form.get(name)
    if isinstance(value, list):  # a plain dict of lists, as parse_qs gives
        value = value[0] if value else ""
    return {"honeypot_field_name": name, "honeypot_value": "" if value is None else str(value)}

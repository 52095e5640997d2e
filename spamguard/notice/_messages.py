"""The English source texts of the notice: the msgids of the ``spamguard`` gettext domain.

Each message uses named placeholders in braces (``{service}``, ``{link}``...), filled by
:func:`spamguard.notice._render.fill`, never by ``str.format`` (a catalog is data, and
``str.format`` would let a bad translation reach attributes). The ``.pot`` template under
``locale/`` lists exactly these messages; a test keeps the two in step.
"""

from __future__ import annotations

__all__ = ["MESSAGES", "PLURAL_MESSAGES"]


def N_(message: str) -> str:
    """Mark a string for translation without translating it (the gettext convention)."""
    return message


# The one-line disclosure under a comment form.
DISCLOSURE_REMOTE = N_(
    "To fight spam, this site sends your comment, name, email address and IP address "
    "to {service} for checking. {link}"
)
DISCLOSURE_REMOTE_LINK = N_("How {service} handles your data")
DISCLOSURE_LOCAL = N_(
    "To fight spam, this site checks your comment on its own server; "
    "your data is not sent to any outside service. {link}"
)
DISCLOSURE_LOCAL_SITE = N_(
    "To fight spam, {site} checks your comment on its own server; "
    "your data is not sent to any outside service. {link}"
)
DISCLOSURE_LOCAL_LINK = N_("Privacy policy")
# How a link is written in plain text: translators may change the punctuation.
TEXT_LINK = N_("{text}: {url}")

# The longer paragraph for the site's privacy policy.
POLICY_DATA = N_(
    "When you post a comment, this site checks it for spam. The check uses your IP address, "
    "your browser's user agent, the page you came from (referrer), the name, email address "
    "and website you enter, and the text of your comment."
)
POLICY_PURPOSE = N_(
    "This is done to keep spam and abuse off the site; the legal basis is the site's "
    "legitimate interest in doing so (Art. 6(1)(f) GDPR)."
)
POLICY_REMOTE = N_(
    "For the check, this data is sent to {service}, which processes it under its own "
    "privacy policy ({link})."
)
POLICY_LOCAL = N_(
    "The check runs on this site's own server; the data is not passed on to any outside "
    "service for it."
)
POLICY_RETENTION = (
    N_(
        "When a moderator marks a comment as spam or not spam, this site keeps that decision "
        "with the comment data for {days} day to improve its spam filter, and deletes it afterwards."
    ),
    N_(
        "When a moderator marks a comment as spam or not spam, this site keeps that decision "
        "with the comment data for {days} days to improve its spam filter, and deletes it afterwards."
    ),
)
POLICY_ERASURE = N_("To have your data erased, contact {contact}.")
POLICY_ERASURE_DEFAULT = N_("To have your data erased, contact the operator of this site.")

#: Every singular message, in catalog order.
MESSAGES: tuple[str, ...] = (
    DISCLOSURE_REMOTE,
    DISCLOSURE_REMOTE_LINK,
    DISCLOSURE_LOCAL,
    DISCLOSURE_LOCAL_SITE,
    DISCLOSURE_LOCAL_LINK,
    TEXT_LINK,
    POLICY_DATA,
    POLICY_PURPOSE,
    POLICY_REMOTE,
    POLICY_LOCAL,
    POLICY_ERASURE,
    POLICY_ERASURE_DEFAULT,
)
#: Every (singular, plural) message pair, in catalog order.
PLURAL_MESSAGES: tuple[tuple[str, str], ...] = (POLICY_RETENTION,)

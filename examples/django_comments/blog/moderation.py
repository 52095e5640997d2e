"""The one line of spamguard this blog needs: a moderator for its entries."""

from spamguard.integrations.django.moderation import SpamGuardModerator


class EntryModerator(SpamGuardModerator):
    """Guard.from_env() decides: APPROVE publishes, HOLD/SPAM hide the comment, DISCARD refuses it.

    Behind a reverse proxy, list it: ``trusted_proxies = ["10.0.0.0/8"]`` (or set
    SPAMGUARD_TRUSTED_PROXIES). ``guard`` may be set to a Guard of your own.
    """

"""The Django app configuration of spamguard's template tags."""

from __future__ import annotations

from django.apps import AppConfig


class SpamguardConfig(AppConfig):
    """spamguard's Django app: provides the ``spamguard_tags`` template library."""

    name = "spamguard.integrations.django"
    label = "spamguard"
    verbose_name = "spamguard"

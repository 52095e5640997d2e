"""A Django app for the data-processing notice: ``{% spamguard_notice %}``.

Add ``"spamguard.integrations.django"`` to ``INSTALLED_APPS``, then in a template::

    {% load spamguard_tags %}
    {% spamguard_notice %}                 {# language from the request #}
    {% spamguard_notice "de" %}            {# or a fixed one #}
    {% spamguard_policy retention_days=90 %}

Settings (all optional), the keyword arguments of :func:`spamguard.notice.disclosure`::

    SPAMGUARD_NOTICE = {"service": "akismet", "target": "_blank", "display": "display"}
    SPAMGUARD_POLICY = {"retention_days": 90, "erasure_contact": "privacy@example.org"}

For django-contrib-comments, :mod:`spamguard.integrations.django.moderation` has a
``CommentModerator`` that asks a Guard, and admin actions that report spam / not spam.

Django is not a dependency of spamguard; this app imports it only when Django loads it.
"""

"""Glue between spamguard and web frameworks, none of which spamguard depends on.

Each module imports its framework only when used: ``spamguard.integrations.jinja`` (a Jinja2
global and filter for the data-processing notice) and ``spamguard.integrations.django``
(a Django app with the ``{% spamguard_notice %}`` template tag).
"""

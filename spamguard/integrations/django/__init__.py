"""spamguard for Django: the comment moderator for django-contrib-comments (``.moderation``)."""

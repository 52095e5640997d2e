from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every new comment on an Entry goes through spamguard (see moderation.py).
        from django_comments.moderation import moderator

        from .models import Entry
        from .moderation import EntryModerator

        moderator.register(Entry, EntryModerator)

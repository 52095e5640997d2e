from django.contrib import admin
from django_comments.models import Comment

from spamguard.integrations.django.moderation import SpamGuardCommentsAdmin

from .models import Entry

admin.site.register(Entry)

# django-contrib-comments' admin, plus "Mark as spam" / "Mark as not spam" (report_spam / report_ham).
if admin.site.is_registered(Comment):
    admin.site.unregister(Comment)
admin.site.register(Comment, SpamGuardCommentsAdmin)

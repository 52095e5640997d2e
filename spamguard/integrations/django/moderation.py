"""A django-contrib-comments moderator that asks a :class:`~spamguard.Guard`, and admin report actions.

Register it for your model like any ``CommentModerator``::

    from django_comments.moderation import moderator
    from spamguard.integrations.django.moderation import SpamGuardModerator

    class EntryModerator(SpamGuardModerator):
        trusted_proxies = ["10.0.0.0/8"]      # your reverse proxies, if any

    moderator.register(Entry, EntryModerator)

Each new comment is checked once: ``APPROVE`` publishes it, ``HOLD`` keeps it out of sight
for a moderator (``is_public=False``), ``SPAM`` also marks it removed (``is_removed=True``),
and ``DISCARD`` refuses it outright (django-contrib-comments answers 400 and stores nothing).
For the admin, :class:`SpamGuardCommentsAdmin` adds "Mark as spam" / "Mark as not spam"
actions that call ``report_spam`` / ``report_ham``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.contrib import admin, messages
from django_comments.admin import CommentsAdmin
from django_comments.moderation import CommentModerator, moderator

from ...comment import Comment
from ...errors import SpamGuardError
from ...verdict import Action, Verdict
from .._request import HeaderPolicy, ProxySpec, comment_from_django

__all__ = [
    "SpamGuardCommentsAdmin",
    "SpamGuardModerator",
    "comment_from_django_comment",
    "mark_ham",
    "mark_spam",
]

logger = logging.getLogger(__name__)

_VERDICT_ATTR = "_spamguard_verdict"
_shared: dict[str, Any] = {}
_shared_lock = threading.Lock()


def _default_guard() -> Any:
    """One ``Guard.from_env()`` per process, made on first use."""
    with _shared_lock:
        if "guard" not in _shared:
            from ...guard import Guard

            _shared["guard"] = Guard.from_env(feedback=True)  # moderators' reports kept for retraining
        return _shared["guard"]


def _absolute_url(obj: Any, request: Any) -> str | None:
    get_url = getattr(obj, "get_absolute_url", None)
    if get_url is None:
        return None
    try:
        url = str(get_url())
        return str(request.build_absolute_uri(url)) if request is not None else None
    except Exception:  # noqa: BLE001 - a broken get_absolute_url must not block commenting
        logger.debug("no permalink for %r", obj, exc_info=True)
        return None


def comment_from_django_comment(obj: Any, request: Any = None) -> Comment:
    """A :class:`~spamguard.Comment` rebuilt from a stored django-contrib-comments comment (for reports)."""
    return Comment(
        content=obj.comment,
        author=obj.user_name or None,
        author_email=obj.user_email or None,
        author_url=obj.user_url or None,
        user_ip=obj.ip_address or None,
        permalink=_absolute_url(obj.content_object, request),
    )


class SpamGuardModerator(CommentModerator):
    """A ``CommentModerator`` that holds, marks or refuses comments as a spamguard ``Guard`` decides.

    Class attributes to override: ``guard`` (``None``: one shared ``Guard.from_env()``),
    ``trusted_proxies`` (``None``: ``SPAMGUARD_TRUSTED_PROXIES``), ``header_policy``,
    ``honeypot_field`` (django-contrib-comments' own ``honeypot`` field). The options of
    ``CommentModerator`` (``auto_moderate_field``, ``enable_field``, ``email_notification``)
    still apply.
    """

    guard: Any = None
    trusted_proxies: ProxySpec = None
    header_policy: HeaderPolicy | None = HeaderPolicy()
    honeypot_field: str | None = "honeypot"

    def get_guard(self) -> Any:
        """The Guard (or any classifier with ``check``/``report_spam``/``report_ham``) to use."""
        return self.guard if self.guard is not None else _default_guard()

    def comment_for(self, comment: Any, content_object: Any, request: Any) -> Comment:
        """The spamguard ``Comment`` for a django-contrib-comments comment being posted."""
        return comment_from_django(
            request,
            trusted_proxies=self.trusted_proxies,
            header_policy=self.header_policy,
            honeypot_field=self.honeypot_field,
            permalink=_absolute_url(content_object, request),
            content=comment.comment,
            author=comment.user_name or None,
            author_email=comment.user_email or None,
            author_url=comment.user_url or None,
        )

    def verdict(self, comment: Any, content_object: Any, request: Any) -> Verdict:
        """The Guard's verdict for this comment, checked once and kept on the comment object."""
        cached = getattr(comment, _VERDICT_ATTR, None)
        if cached is not None:
            return cached
        candidate = self.comment_for(comment, content_object, request)
        result = self.get_guard().check(candidate)
        if candidate.user_ip:
            comment.ip_address = candidate.user_ip  # the client behind trusted proxies, not the proxy
        setattr(comment, _VERDICT_ATTR, result)
        logger.info("comment by %r: %s (%s)", comment.user_name, result.action, result.source)
        return result

    def allow(self, comment: Any, content_object: Any, request: Any) -> bool:
        """Refuse the comment when the policy says ``DISCARD`` (or the base rules refuse it)."""
        if not super().allow(comment, content_object, request):
            return False
        return self.verdict(comment, content_object, request).action is not Action.DISCARD

    def moderate(self, comment: Any, content_object: Any, request: Any) -> bool:
        """Keep the comment from the page unless the verdict is ``APPROVE``; spam is also marked removed."""
        action = self.verdict(comment, content_object, request).action
        if action is Action.SPAM:
            comment.is_removed = True
        return bool(super().moderate(comment, content_object, request)) or action is not Action.APPROVE


def _guard_for(obj: Any) -> Any:
    model = obj.content_type.model_class() if getattr(obj, "content_type_id", None) else None
    registered = moderator._registry.get(model)
    if isinstance(registered, SpamGuardModerator):
        return registered.get_guard()
    return _default_guard()


def _report(modeladmin: Any, request: Any, queryset: Any, *, spam: bool) -> None:
    done, failed = 0, 0
    for obj in queryset:
        guard = _guard_for(obj)
        try:
            comment = comment_from_django_comment(obj, request)
            (guard.report_spam if spam else guard.report_ham)(comment)
        except (SpamGuardError, ValueError) as exc:
            failed += 1
            modeladmin.message_user(request, f"Comment {obj.pk} could not be reported: {exc}", messages.WARNING)
        obj.is_public = not spam
        obj.is_removed = spam
        obj.save(update_fields=["is_public", "is_removed"])
        done += 1
    label = "spam" if spam else "not spam"
    modeladmin.message_user(request, f"{done} comment(s) marked as {label}; {done - failed} reported.")


@admin.action(description="Mark as spam (hide and report)")
def mark_spam(modeladmin: Any, request: Any, queryset: Any) -> None:
    """Admin action: hide the selected comments and ``report_spam`` each one."""
    _report(modeladmin, request, queryset, spam=True)


@admin.action(description="Mark as not spam (publish and report)")
def mark_ham(modeladmin: Any, request: Any, queryset: Any) -> None:
    """Admin action: publish the selected comments and ``report_ham`` each one."""
    _report(modeladmin, request, queryset, spam=False)


class SpamGuardCommentsAdmin(CommentsAdmin):
    """django-contrib-comments' admin with the spam / not-spam report actions added.

    ``admin.site.unregister(Comment); admin.site.register(Comment, SpamGuardCommentsAdmin)``.
    """

    actions = [*CommentsAdmin.actions, mark_spam, mark_ham]

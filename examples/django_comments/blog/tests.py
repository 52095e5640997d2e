"""The example through Django's test client: ``python examples/django_comments/manage.py test blog``.

The repository's pytest suite runs this in a subprocess (Django's settings are process-wide).
Set ``SPAMGUARD_FEEDBACK_DB`` to a scratch file first: the admin actions record feedback.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import TestCase
from django_comments.forms import CommentForm
from django_comments.models import Comment

from spamguard import AkismetClient, FeedbackStore, Guard, LocalModel, Policy
from spamguard.testing import FakeAkismet

from .models import Entry
from .moderation import EntryModerator

HAM = "Thanks for the recipe! My loaf came out with a lovely crust. How long do you let the dough proof overnight?"
SPAM = (
    "BUY CHEAP VIAGRA ONLINE!!! Best prices, no prescription, casino bonus, free money, click now "
    "http://cheap-pills.example http://casino-bonus.example http://free-money.example"
)


class CommentingTests(TestCase):
    def setUp(self) -> None:
        self.entry = Entry.objects.get(pk=1)  # made by the initial migration
        self.addCleanup(setattr, EntryModerator, "trusted_proxies", EntryModerator.trusted_proxies)
        self.addCleanup(setattr, EntryModerator, "guard", EntryModerator.guard)

    def post(self, content: str, *, name: str = "Ana", honeypot: str = "", **extra: str):
        """Send the entry's comment form as a browser would (security fields included)."""
        data = CommentForm(self.entry).initial | {
            "name": name, "email": "ana@example.org", "url": "", "comment": content, "honeypot": honeypot,
        }
        extra.setdefault("REMOTE_ADDR", "198.51.100.20")
        return self.client.post("/comments/post/", data, HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0", **extra)

    def test_a_ham_comment_is_published(self) -> None:
        response = self.post(HAM)

        self.assertEqual(response.status_code, 302)
        comment = Comment.objects.get()
        self.assertEqual((comment.is_public, comment.is_removed), (True, False))
        self.assertContains(self.client.get(self.entry.get_absolute_url()), "lovely crust")

    def test_a_spam_comment_is_held(self) -> None:
        # A site that keeps all spam for review: no discarding.
        EntryModerator.guard = Guard(local=LocalModel.load(), policy=Policy(discard_threshold=None))

        self.post(SPAM)

        comment = Comment.objects.get()
        self.assertEqual((comment.is_public, comment.is_removed), (False, True))
        self.assertNotContains(self.client.get(self.entry.get_absolute_url()), "VIAGRA")

    def test_blatant_spam_is_refused_by_the_default_policy(self) -> None:
        response = self.post(SPAM)

        self.assertEqual(response.status_code, 400)
        self.assertFalse(Comment.objects.exists())

    def test_a_filled_honeypot_is_caught(self) -> None:
        response = self.post(HAM, honeypot="http://bot.example")

        self.assertEqual(response.status_code, 400)
        self.assertFalse(Comment.objects.exists())

    def test_the_notice_is_in_the_requested_language(self) -> None:
        german = self.client.get(self.entry.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
        english = self.client.get(self.entry.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

        self.assertContains(german, "Kommentar")
        self.assertNotContains(english, "Kommentar")
        self.assertContains(english, "spamguard-notice")

    def test_a_spoofed_forwarded_for_is_ignored_and_a_trusted_proxy_believed(self) -> None:
        EntryModerator.trusted_proxies = ["10.0.0.0/8"]

        self.post(HAM, HTTP_X_FORWARDED_FOR="1.2.3.4")  # straight from the internet: a lie
        self.post(HAM + " Again.", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")

        self.assertEqual(
            list(Comment.objects.order_by("pk").values_list("ip_address", flat=True)),
            ["198.51.100.20", "203.0.113.9"],
        )

    def test_akismet_discard_refuses_the_comment(self) -> None:
        with FakeAkismet(valid_keys={"test-key"}) as server:
            EntryModerator.guard = Guard(
                remote=AkismetClient("test-key", "http://testserver/", base_url=server.url), local=LocalModel.load()
            )
            refused = self.post("Visit my site akismet-discard")
            spam = self.post("A nice post", name="akismet-guaranteed-spam")
            sent = [form for path, form in server.requests if path.endswith("comment-check")]

        self.assertEqual(refused.status_code, 400)
        comment = Comment.objects.get()
        self.assertEqual((comment.comment, comment.is_public, comment.is_removed), ("A nice post", False, True))
        self.assertEqual(spam.status_code, 302)
        self.assertEqual(sent[0]["permalink"], "http://testserver/entries/1/")
        self.assertEqual(sent[0]["honeypot_field_name"], "honeypot")


class AdminActionTests(TestCase):
    def setUp(self) -> None:
        self.entry = Entry.objects.get(pk=1)
        admin = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw")
        self.client.force_login(admin)

    def comment(self, text: str, *, public: bool) -> Comment:
        return Comment.objects.create(
            content_object=self.entry, site_id=1, user_name="Ana", user_email="ana@example.org",
            comment=text, ip_address="198.51.100.20", is_public=public,
        )

    def act(self, action: str, comment: Comment):
        return self.client.post(
            "/admin/django_comments/comment/",
            {"action": action, "_selected_action": [comment.pk]},
            follow=True,
        )

    def test_mark_as_spam_hides_and_reports(self) -> None:
        comment = self.comment(SPAM, public=True)

        response = self.act("mark_spam", comment)

        self.assertContains(response, "1 comment(s) marked as spam; 1 reported.")
        comment.refresh_from_db()
        self.assertEqual((comment.is_public, comment.is_removed), (False, True))
        self.assertEqual([(r.comment.content, r.label) for r in FeedbackStore().records()][-1], (SPAM, True))

    def test_mark_as_not_spam_publishes_and_reports(self) -> None:
        comment = self.comment(HAM, public=False)

        response = self.act("mark_ham", comment)

        self.assertContains(response, "1 comment(s) marked as not spam; 1 reported.")
        comment.refresh_from_db()
        self.assertEqual((comment.is_public, comment.is_removed), (True, False))
        self.assertEqual([(r.comment.content, r.label) for r in FeedbackStore().records()][-1], (HAM, False))

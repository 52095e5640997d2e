"""The service with the shipped local model answers what the model itself decides."""

from __future__ import annotations

import spamguard
from spamguard import Comment
from spamguard.server import DEFAULT_DISCARD_THRESHOLD

SITE = "https://blog.example"

COMMENTS = [
    Comment(content="Thanks, this fixed my build", user_ip="203.0.113.7", author="Ann"),
    Comment(content="Check out my channel http://youtube.example subscribe!!!", user_ip="203.0.113.8"),
    Comment(content="Cheap pills online, no prescription http://pills.example", user_ip="203.0.113.9",
            author_email="bob@example.net"),
    Comment(content="I love this song so much", user_ip="203.0.113.10", author="Cleo"),
    Comment(content="hello", user_ip="203.0.113.11", honeypot_field_name="website", honeypot_value="x"),
]


def test_service_answers_match_the_model(serve, api_key):
    """For each comment the service says true exactly when LocalModel.check says spam, or the
    Policy makes it spam (a filled honeypot: the model weighs it as one bounded signal, the policy
    never approves it); the discard tip exactly when the Policy discards."""
    model = spamguard.LocalModel.load()
    policy = spamguard.Policy(discard_threshold=DEFAULT_DISCARD_THRESHOLD, hold_threshold=None)
    server = serve(classifier=model)
    for comment in COMMENTS:
        form = {"api_key": api_key, "blog": SITE, **comment.to_akismet()}
        answer = server.post("/1.1/comment-check", form)
        verdict = model.check(comment)
        action = policy.decide(verdict, comment)
        spam = verdict.spam or comment.honeypot_filled
        assert answer.text == ("true" if spam else "false"), comment
        assert (action in (spamguard.Action.SPAM, spamguard.Action.DISCARD)) == spam, comment
        discard = verdict.spam and verdict.score >= DEFAULT_DISCARD_THRESHOLD
        assert ("X-akismet-pro-tip" in answer.headers) == discard == (action is spamguard.Action.DISCARD), comment

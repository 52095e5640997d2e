"""How the service asks the model: the fast path for scoring models, and what /health says of it."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..classifier import Classifier
from ..comment import Comment
from ..verdict import Source, Verdict

__all__ = ["fast_judge", "describe"]


def fast_judge(classifier: Classifier) -> Callable[[list[Comment]], list[Verdict]] | None:
    """For a model that gives bare scores and a threshold (:class:`~spamguard.LocalModel`), judge with those.

    The service answers only true/false/discard, so the reasons ``check_many`` works out (a
    third of the model's time) would be thrown away. The decision is the model's own:
    spam when ``score >= threshold``, as its ``check`` decides.
    """
    scores = getattr(classifier, "scores", None)
    threshold = getattr(classifier, "threshold", None)
    if not callable(scores) or not isinstance(threshold, float):
        return None

    def judge(comments: list[Comment]) -> list[Verdict]:
        return [
            Verdict(spam=score >= threshold, score=min(1.0, max(0.0, score)), source=Source.LOCAL)
            for score in (float(x) for x in scores(comments))
        ]

    return judge


def describe(classifier: Classifier) -> dict[str, Any]:
    """What /health says about the model: its type, threshold and the facts its manifest gives."""
    info: dict[str, Any] = {"name": type(classifier).__name__}
    threshold = getattr(classifier, "threshold", None)
    if isinstance(threshold, (int, float)):
        info["threshold"] = threshold
    path = getattr(classifier, "path", None)
    if path is not None:
        info["path"] = os.fspath(path)
    manifest = getattr(classifier, "manifest", None)
    if isinstance(manifest, dict):
        for key in ("sha256", "created", "spamguard_version", "sklearn_version", "format_version"):
            if isinstance(manifest.get(key), (str, int, float)):
                info[key] = manifest[key]
    return info

"""Retraining the local model from moderators' feedback (``spamguard train --feedback DB``).

The feedback is split (stratified, seeded) into a part to train on and a held-out part; the
current model and the retrained one are both measured on the held-out feedback, and the new
model counts as worse when its F1 there is lower (ties broken by ROC-AUC). Two ways to learn:
from base records plus the feedback (the feedback rows repeated ``feedback_weight`` times, so a
few hundred of this site's comments weigh against thousands of base rows), or, with
``base_model``, by adapting a trained model (the shipped one: ``"default"``) to the feedback
alone, which needs no training corpus. :meth:`RetrainResult.save` writes the new model unless it
is worse or cannot be compared (``force`` writes it anyway).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from .dumps import Record
from .feedback import FeedbackStore

__all__ = ["RetrainResult", "retrain_from_feedback", "split_feedback"]

MIN_HELD_OUT_PER_CLASS = 2


@attrs.frozen(kw_only=True)
class RetrainResult:
    """What a retraining did: the new model, the metrics before and after, and whether it is worse."""

    model: Any  # LocalModel
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    feedback_train: int
    feedback_held_out: int
    base_rows: int
    seed: int = 0
    feedback: str | None = None
    feedback_weight: int = 1
    base_files: tuple[str, ...] = ()
    base_model: str | None = None

    @property
    def worse(self) -> bool:
        """True when the new model scores below the current one on the held-out feedback."""
        if self.before is None or self.after is None:
            return False
        return _rank(self.after) < _rank(self.before)

    @property
    def refusal(self) -> str | None:
        """Why the new model should not replace the current one (None: it may)."""
        if self.before is None or self.after is None:
            return ("the held-out feedback does not hold both spam and ham, so the new model cannot be compared "
                    "with the current one")
        if self.worse:
            return "the new model is worse than the current one on the held-out feedback"
        return None

    def save(self, path: str | os.PathLike[str], *, force: bool = False) -> dict[str, Any] | None:
        """Write the new model with its manifest unless :attr:`refusal` says no (``force``: write anyway).

        Returns the manifest written, or None when nothing was written.
        """
        if self.refusal and not force:
            return None
        training_data: list[dict[str, Any]] = [{"file": f} for f in self.base_files]
        training_data.append({"feedback": self.feedback, "rows": self.feedback_train,
                              "weight": self.feedback_weight})
        extra = {"base_model": {"model": self.base_model}} if self.base_model else {}
        return dict(self.model.save(
            path, seed=self.seed, rows=self.base_rows + self.feedback_train, training_data=training_data,
            metrics={"held_out_feedback": self.after, "previous_model_on_held_out_feedback": self.before}, **extra,
        ))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (without the model)."""
        return {
            "before": self.before, "after": self.after, "worse": self.worse, "feedback_train": self.feedback_train,
            "feedback_held_out": self.feedback_held_out, "base_rows": self.base_rows,
            "base_model": self.base_model, "refused": self.refusal,
        }


def _rank(m: dict[str, Any]) -> tuple[float, float]:
    return (m.get("f1") or 0.0, m.get("roc_auc") or 0.0)


def split_feedback(records: Sequence[Record], held_out: float, seed: int) -> tuple[list[Record], list[Record]]:
    """Stratified split of labelled feedback into (train, held out); the same seed, the same split."""
    if not 0.0 <= held_out < 1.0:
        raise ValueError(f"the held-out share must be at least 0 and below 1, got {held_out!r}")
    rng = random.Random(seed)
    train: list[Record] = []
    test: list[Record] = []
    for label in (True, False):
        group = [r for r in records if r.label is label]
        rng.shuffle(group)
        n_test = round(len(group) * held_out)
        if held_out and len(group) >= 2 * MIN_HELD_OUT_PER_CLASS:
            n_test = max(MIN_HELD_OUT_PER_CLASS, n_test)
        test.extend(group[:n_test])
        train.extend(group[n_test:])
    key = (lambda r: int(r.id)) if all((r.id or "").isdigit() for r in records) else (lambda r: r.position)
    return sorted(train, key=key), sorted(test, key=key)


def retrain_from_feedback(
    store: FeedbackStore,
    base: Iterable[Record] = (),
    *,
    current: Any | None = None,
    held_out: float = 0.25,
    seed: int = 0,
    feedback_weight: int = 3,
    sources: Iterable[str] | None = None,
    cv: int = 5,
    threshold: float | str = "auto",
    base_model: Any | None = None,
    strength: float | None = None,
) -> RetrainResult:
    """Train a new local model on ``base`` records plus the store's feedback, or adapt ``base_model``
    to the feedback alone; measure it against ``current`` (a :class:`~spamguard.LocalModel`, or
    None) on held-out feedback.

    ``cv``, ``threshold``, ``base_model`` (a LocalModel, a model file's path or ``"default"``)
    and ``strength`` go to :func:`spamguard.local.train`. Nothing is written:
    :meth:`RetrainResult.save` writes the model unless it is worse. Raises ``ValueError`` when
    there is nothing to learn from, or when both ``base`` records and ``base_model`` are given.
    """
    from .local import evaluate, train

    if feedback_weight < 1:
        raise ValueError(f"feedback_weight must be at least 1, got {feedback_weight!r}")
    feedback = list(store.records(sources=sources))
    if not feedback:
        raise ValueError(f"the feedback store {store.location} holds no labelled comments yet")
    fb_train, fb_test = split_feedback(feedback, held_out, seed)
    base_rows = list(base)
    if base_model is not None and base_rows:
        raise ValueError("adapting a base model learns from the feedback alone; give base data or a base model, "
                         "not both")
    if base_model is not None:
        model, _report = train(fb_train, seed=seed, cv=cv, threshold=threshold, base_model=base_model,
                               strength=strength)
    else:
        model, _report = train(base_rows + fb_train * feedback_weight, seed=seed, cv=cv, threshold=threshold)
    evaluable = len({r.label for r in fb_test}) == 2
    before = evaluate(current, fb_test) if current is not None and evaluable else None
    after = evaluate(model, fb_test) if evaluable else None
    for m in (before, after):
        if m is not None:
            m.pop("files", None)
            m.pop("sources", None)
    return RetrainResult(
        model=model, before=before, after=after, feedback_train=len(fb_train), feedback_held_out=len(fb_test),
        base_rows=len(base_rows), seed=seed, feedback=store.location,
        feedback_weight=1 if base_model is not None else feedback_weight,
        base_files=tuple(dict.fromkeys(r.source for r in base_rows if r.source)),
        base_model=_report.base_model,
    )

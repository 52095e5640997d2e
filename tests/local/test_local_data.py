"""The real labelled data (../shared/data): readers count it right, a model trained on part of it generalises."""

from __future__ import annotations

from collections import Counter

import pytest
from _localdata import data_dir

from spamguard.dumps import Record, read_records
from spamguard.local import SpamClassifier, evaluate, train


def labelled(path):
    items = list(read_records(path))
    assert all(isinstance(i, Record) for i in items), [str(i) for i in items if not isinstance(i, Record)][:3]
    return items


def test_shared_data_reads_without_rejects():
    """Every row of the shared collections is read, with the counts the data README gives."""
    root = data_dir()
    youtube = [r for p in sorted((root / "youtube-spam").glob("*.csv")) for r in labelled(p)]
    sms = labelled(root / "sms-spam" / "sms-dev.tsv")
    tg = labelled(root / "tg-spam" / "spam-samples.txt") + labelled(root / "tg-spam" / "ham-samples.txt")
    assert (len(youtube), len(sms), len(tg)) == (1586, 3112, 620)
    assert Counter(r.label for r in tg) == {True: 182, False: 438}


@pytest.mark.slow
def test_model_trained_on_three_videos_catches_spam_on_the_fourth():
    """Leave one video out: trained on three YouTube videos and the SMS data, F1 on the fourth is high."""
    root = data_dir()
    videos = sorted((root / "youtube-spam").glob("*.csv"))
    train_records = [r for p in videos[:3] for r in labelled(p)] + labelled(root / "sms-spam" / "sms-dev.tsv")
    model, _ = train(train_records, cv=0, estimator=SpamClassifier(n_bits=16))
    result = evaluate(model, labelled(videos[3]))
    assert result["f1"] >= 0.9 and result["roc_auc"] >= 0.97, result

"""`spamguard train` and `spamguard evaluate`: exit codes, stdout, stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _localdata import synthetic

from spamguard.cli import main


@pytest.fixture()
def data(tmp_path):
    """A labelled JSONL file with one bad row, and a TSV file."""
    comments, labels = synthetic(80, seed=0)
    lines = [
        json.dumps({"content": c.content, "label": "spam" if y else "ham"})
        for c, y in zip(comments, labels, strict=True)
    ]
    lines.insert(5, '{"content": "x", "label": "maybe"}')
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_text("\n".join(lines) + "\n")
    test_comments, test_labels = synthetic(20, seed=1)
    tsv = tmp_path / "test.tsv"
    pairs = zip(test_comments, test_labels, strict=True)
    tsv.write_text("".join(f"{'spam' if y else 'ham'}\t{c.content}\n" for c, y in pairs))
    return jsonl, tsv


def test_train_writes_model_and_manifest_and_reports_skipped_rows(data, tmp_path, capsys):
    """train exits 0, writes both files, prints metrics on stdout and the bad row with file:line on stderr."""
    jsonl, _ = data
    out = tmp_path / "m.joblib"
    status = main(["train", str(jsonl), "-o", str(out), "--cv", "2", "--seed", "3"])
    captured = capsys.readouterr()
    assert status == 0
    assert out.is_file() and out.with_suffix(".json").is_file()
    assert "2-fold cross-validated:" in captured.out and "f1 " in captured.out
    assert f"{jsonl}:6: unknown label 'maybe'" in captured.err
    assert "skipped 1 unreadable row" in captured.err
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["seed"] == 3 and manifest["rows"] == 80 and manifest["rejected_rows"] == 1
    assert manifest["training_data"][0]["file"] == str(jsonl) and len(manifest["training_data"][0]["sha256"]) == 64
    assert manifest["metrics"]["cross_validated"]["n"] == 80


def test_train_with_a_base_model_adapts_it_to_the_data(data, tmp_path, capsys):
    """--base-model default adapts the shipped model to DATA alone; the manifest names the base model."""
    jsonl, _ = data
    out = tmp_path / "site.joblib"
    status = main(["train", str(jsonl), "--base-model", "default", "-o", str(out), "--cv", "2"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "adapting default" in captured.out and "2-fold cross-validated:" in captured.out
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["base_model"]["model"] == "default" and manifest["rows"] == 80


def test_train_with_a_missing_base_model_fails_cleanly(data, tmp_path, capsys):
    """A --base-model that is not a model file fails with exit 1 and names the path."""
    jsonl, _ = data
    missing = tmp_path / "nope.joblib"
    status = main(["train", str(jsonl), "--base-model", str(missing), "-o", str(tmp_path / "m.joblib")])
    captured = capsys.readouterr()
    assert status == 1
    assert "nope.joblib" in captured.err and captured.out == ""


def test_train_refuses_one_class_data(tmp_path, capsys):
    """Data with only spam fails with exit 1 and says why; no model file is written."""
    path = tmp_path / "spam.tsv"
    path.write_text("spam\tbuy now\nspam\tcheap pills\n")
    out = tmp_path / "m.joblib"
    assert main(["train", str(path), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "both spam and ham" in captured.err and captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize(("option", "value"), [("--test-size", "1.5"), ("--threshold", "2"), ("--threshold", "x")])
def test_train_bad_numbers_are_usage_errors(data, tmp_path, capsys, option, value):
    """--test-size outside [0, 1) and a threshold that is neither 'auto' nor in (0, 1) exit 2."""
    with pytest.raises(SystemExit) as exc:
        main(["train", str(data[0]), "-o", str(tmp_path / "m.joblib"), option, value])
    assert exc.value.code == 2
    assert option in capsys.readouterr().err


def test_train_missing_output_is_a_usage_error(data, capsys):
    """-o is required: argparse exits 2."""
    with pytest.raises(SystemExit) as exc:
        main(["train", str(data[0])])
    assert exc.value.code == 2


def test_evaluate_json_has_the_documented_keys(data, tmp_path, capsys):
    """evaluate --json prints one object with n, accuracy, ..., roc_auc and a files breakdown."""
    jsonl, tsv = data
    model = tmp_path / "m.joblib"
    assert main(["train", str(jsonl), "-o", str(model), "--cv", "0"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(tsv), str(jsonl), "--model", str(model), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert {"n", "accuracy", "precision", "recall", "f1", "mcc", "roc_auc", "files", "confusion"} <= set(result)
    assert result["n"] == 100 and list(result["files"]) == [str(tsv), str(jsonl)]
    assert result["rejected"] == 1 and "unknown label" in captured.err


def test_evaluate_text_output_with_the_default_model(data, capsys):
    """Without --model the shipped default model is used; text output lists overall and per-file figures."""
    _, tsv = data
    assert main(["evaluate", str(tsv)]) == 0
    out = capsys.readouterr().out
    assert "all files:" in out and f"{tsv}:" in out and "roc_auc" in out


def test_evaluate_tampered_model_fails_cleanly(data, tmp_path, capsys):
    """A model file that does not match its manifest: exit 1 and a message, no traceback."""
    jsonl, tsv = data
    model = tmp_path / "m.joblib"
    main(["train", str(jsonl), "-o", str(model), "--cv", "0"])
    model.write_bytes(model.read_bytes() + b"x")
    capsys.readouterr()
    assert main(["evaluate", str(tsv), "--model", str(model)]) == 1
    err = capsys.readouterr().err
    assert "does not match its manifest" in err and "Traceback" not in err


def test_train_on_a_handful_of_rows_says_the_model_is_close_to_guessing(tmp_path):
    """Two rows make a model (exit 0), but not without a word: stderr says how few, and what to do instead."""
    path = tmp_path / "two.jsonl"
    path.write_text('{"content": "buy pills now", "label": "spam"}\n{"content": "nice post", "label": "ham"}\n')
    proc = subprocess.run(  # noqa: S603 - our own interpreter running our own package
        [sys.executable, "-m", "spamguard", "train", str(path), "-o", str(tmp_path / "m.joblib")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0 and (tmp_path / "m.joblib").exists()
    assert "only 2 labelled comment(s) to learn from (1 spam, 1 ham)" in proc.stderr
    assert "--base-model default" in proc.stderr and "base_model=" not in proc.stderr
    assert "no cross-validated figures were measured" in proc.stderr


def test_evaluate_on_one_class_says_which_figures_are_undefined(tmp_path, capsys):
    """Only spam in the data, none caught: precision, MCC and ROC-AUC are undefined (n/a, null), not 0."""
    path = tmp_path / "spam.tsv"
    path.write_text("spam\tI like this song\nspam\tThanks for the video\n")
    assert main(["evaluate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "precision n/a  recall 0.0000" in out
    assert "(the data holds only spam: MCC and ROC-AUC are undefined; nothing was judged spam: " \
           "precision is undefined)" in out
    assert main(["evaluate", str(path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["precision"], figures["recall"], figures["f1"], figures["roc_auc"]) == (None, 0.0, 0.0, None)


def test_evaluate_on_unlabelled_data_says_evaluating_needs_labels(tmp_path, capsys):
    """The message is about evaluating, not training."""
    path = tmp_path / "unlabelled.jsonl"
    path.write_text('{"content": "hello"}\n')
    assert main(["evaluate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "unlabelled.jsonl:1: the record has no label; evaluating needs spam or ham" in err


def test_evaluate_unreadable_file_fails(tmp_path, capsys):
    """A missing data file: exit 1 with its name."""
    assert main(["evaluate", str(tmp_path / "nope.jsonl")]) == 1
    assert "nope.jsonl" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_help_has_an_example(command):
    """Each command's help runs in a real subprocess and shows an example."""
    proc = subprocess.run(  # noqa: S603 - our own interpreter running our own package
        [sys.executable, "-m", "spamguard", command, "-h"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert "examples:\n  spamguard " + command in proc.stdout and proc.stderr == ""

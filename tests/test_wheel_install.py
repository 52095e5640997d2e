"""A built wheel carries the default model: installed from it, `spamguard check` works with no key and no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL_FILES = ("model.joblib", "model.npz", "model.json", "MODEL_CARD.md", "DATA_LICENSES.md")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """spamguard built as a wheel (pip, with build isolation) and installed, non-editable, into a folder."""
    base = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(  # noqa: S603 - our own interpreter building this checkout
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(base / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    if build.returncode != 0 and "Could not find a version" in build.stderr + build.stdout:
        pytest.skip(f"building a wheel needs the build requirements from a package index: {build.stderr[-300:]}")
    assert build.returncode == 0, build.stderr
    wheel = next((base / "dist").glob("spamguard-*.whl"))
    site = base / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)  # noqa: S603 - the wheel just built
    return wheel, site


def run_installed(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` on the installed copy, with no key and no way out to the network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMGUARD_")}
    env.update(PYTHONPATH=str(site), HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
               NO_PROXY="")
    return subprocess.run(  # noqa: S603 - our own interpreter running the installed package
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.slow
def test_the_wheel_holds_the_default_model_and_its_manifest(installed):
    """All model files are in the wheel, and the manifest's SHA-256s match the files beside it."""
    import hashlib

    wheel, _ = installed
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert {f"spamguard/models/default/{f}" for f in MODEL_FILES} <= names
        manifest = json.loads(z.read("spamguard/models/default/model.json"))
        digests = {f: hashlib.sha256(z.read(f"spamguard/models/default/{f}")).hexdigest()
                   for f in ("model.joblib", "model.npz")}
    assert (manifest["sha256"], manifest["scorer_sha256"]) == (digests["model.joblib"], digests["model.npz"])


@pytest.mark.slow
def test_the_wheel_carries_the_licence_and_the_training_datas_licences(installed):
    """The MIT licence is in the wheel's metadata, and the data licences the model card cites are beside the model."""
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as z:
        licences = [n for n in z.namelist() if ".dist-info/" in n and n.rsplit("/", 1)[-1] == "LICENSE"]
        assert licences, "no LICENSE in the wheel's .dist-info"
        assert z.read(licences[0]).decode() == (ROOT / "LICENSE").read_text()
        data_licences = z.read("spamguard/models/default/DATA_LICENSES.md").decode()
        metadata = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        assert "License: MIT" in z.read(metadata).decode() or "License-Expression: MIT" in z.read(metadata).decode()
    for cited in ("CC BY 4.0", "TubeSpam", "Almeida", "Umputun", "Stefan Erben"):
        assert cited in data_licences


@pytest.mark.slow
def test_installed_spamguard_checks_comments_with_the_shipped_model(installed, tmp_path):
    """From the installed copy (not this checkout), check judges spam and ham with the local model."""
    _, site = installed
    where = run_installed(site, "-m", "spamguard", "--version", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    probe = run_installed(site, "-c", "import spamguard; print(spamguard.__file__)", cwd=tmp_path)
    assert Path(probe.stdout.strip()).is_relative_to(site), probe.stdout

    check = ("-m", "spamguard", "check", "--json")
    spam = run_installed(site, *check, "WINNER!! Claim your FREE prize now, call 09061701461, "
                         "visit http://cash.example/win", cwd=tmp_path)
    ham = run_installed(site, *check, "Thanks for the write-up, the second example helped me a lot.", cwd=tmp_path)
    assert (spam.returncode, ham.returncode) == (3, 0), spam.stderr + ham.stderr
    spam_verdict, ham_verdict = json.loads(spam.stdout), json.loads(ham.stdout)
    assert spam_verdict["source"] == ham_verdict["source"] == "local"
    assert spam_verdict["score"] > 0.9 > 0.1 > ham_verdict["score"]

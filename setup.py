"""Build hook: compile the notice's gettext catalogs (.po -> .mo) while building.

Everything else about the package is in setup.cfg. The compiled ``.mo`` files are not kept
in git; this hook writes them into the wheel (and, for editable installs, next to the
``.po`` sources, where .gitignore keeps them out of commits). Babel comes from
``[build-system] requires`` in pyproject.toml.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LOCALE = Path("spamguard", "notice", "locale")


def _compile_catalogs(dest: Path) -> list[Path]:
    # Loaded by path: importing the spamguard package would need its runtime dependencies.
    spec = importlib.util.spec_from_file_location("_spamguard_notice_build", HERE / "spamguard/notice/_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compile_catalogs(HERE / LOCALE, dest)  # type: ignore[no-any-return]


class BuildPyWithCatalogs(build_py):
    """build_py that also compiles the .po catalogs into .mo files."""

    def run(self) -> None:
        super().run()
        in_place = getattr(self, "editable_mode", False)
        dest = HERE / LOCALE if in_place else Path(self.build_lib) / LOCALE
        self._mo_files = _compile_catalogs(dest)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *(str(p) for p in getattr(self, "_mo_files", []))]


setup(cmdclass={"build_py": BuildPyWithCatalogs})

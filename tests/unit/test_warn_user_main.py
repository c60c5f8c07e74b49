"""``warn_user`` from a module run with ``python -m`` (its ``__name__`` is ``__main__``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_warning_from_a_package_run_with_dash_m_is_shown_not_an_import_error(tmp_path: Path):
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "from autoembedding.errors import AutoEmbeddingWarning\n"
        "from autoembedding.warn import warn_user\n"
        "warn_user('texts were truncated', AutoEmbeddingWarning)\n"
        "print('still running')\n"
    )
    root = str(Path(__file__).resolve().parents[2])  # this checkout, not an installed copy
    env = {**os.environ, "PYTHONPATH": root}
    done = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "still running" in done.stdout
    assert "texts were truncated" in done.stderr and "__main__.py:3" in done.stderr

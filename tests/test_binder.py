"""Binder: a fresh environment built *only* from binder/ runs the quick start.

This does what mybinder.org (repo2docker) does — ``pip install -r binder/requirements.txt`` from
the repository root, then ``binder/postBuild`` — in a brand-new venv, then executes
``01-quickstart.ipynb`` with that venv's own ``jupyter nbconvert`` and kernel. pip reaches only
the package registry configured on the machine.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"


def _requirements() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def test_binder__requirements_install_the_repo_and_runtime_deps_only():
    reqs = _requirements()
    assert reqs[0] in (".", "-e ."), "binder must install the package from the repository root"
    names = {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in reqs[1:]}
    assert {"matplotlib", "jupyterlab"} <= names
    assert not names & {"pytest", "pytest-xdist", "ruff", "playwright", "nbclient"}, "test-only deps"


def test_binder__runtime_and_postbuild_are_valid():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    major, minor = runtime.removeprefix("python-").split(".")[:2]
    assert runtime.startswith("python-") and (int(major), int(minor)) >= (3, 11)
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "postBuild must be executable"
    assert post.read_text().startswith("#!/usr/bin/env bash")
    subprocess.run(["bash", "-n", str(post)], check=True)


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd[:4])} … failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.slow
def test_binder__fresh_venv_runs_the_quickstart(tmp_path: Path):
    env_dir = tmp_path / "binder-venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = str(bin_dir / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOUNTA_", "VIRTUAL_ENV", "PYTHON", "MPLBACKEND"))}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(env_dir),
        # Nothing from the developer's own Jupyter setup (kernels, config) may leak in.
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        KOUNTA_CONFIG_DIR=str(tmp_path / "kounta-config"),
        KOUNTA_CACHE_DIR=str(tmp_path / "kounta-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    _run([python, "-m", "pip", "install", "-q", "-r", str(BINDER / "requirements.txt")], env, 1200)
    _run(["bash", str(BINDER / "postBuild")], env, 120)

    # The environment is the fresh one: the package comes from this repo, not the test's venv.
    where = _run([python, "-c", "import kounta_nb, sys; print(kounta_nb.__file__); print(sys.prefix)"], env, 60)
    package_file, prefix = where.stdout.split()
    assert Path(prefix).resolve() == env_dir.resolve()
    assert Path(package_file).resolve().is_relative_to(REPO) or Path(package_file).resolve().is_relative_to(env_dir)
    extensions = _run([str(bin_dir / "jupyter"), "server", "extension", "list"], env, 120)
    assert "kounta_nb.server_ext" in extensions.stdout + extensions.stderr

    out = tmp_path / "executed"
    _run(
        [
            str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
            "--ExecutePreprocessor.timeout=300", "--ExecutePreprocessor.kernel_name=python3",
            "--output-dir", str(out), str(REPO / "notebooks" / "01-quickstart.ipynb"),
        ],
        env,
        600,
    )
    executed = nbformat.read(out / "01-quickstart.ipynb", as_version=4)  # joins multi-line strings
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("text/html" in o.get("data", {}) and "<table" in o["data"]["text/html"] for o in outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs)

"""What the Comfy Registry and ComfyUI-Manager read: licence, icon, minimum host, what a pack ships."""
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
COMFY = shutil.which("comfy") or str(Path(sys.executable).with_name("comfy"))


def test_registry_metadata_names_a_licence_file_an_icon_in_the_repository_and_a_minimum_host():
    assert PYPROJECT["project"]["license"] == {"file": "LICENSE"}
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    comfy = PYPROJECT["tool"]["comfy"]
    prefix = "https://raw.githubusercontent.com/comfyui-synctweedies/ComfyUI-SyncTweedies/main/"
    assert comfy["Icon"].startswith(prefix) and (REPO / comfy["Icon"][len(prefix):]).is_file()
    assert comfy["requires-comfyui"] == ">=0.3.64", "the oldest host the tests run against (../shared/comfyui)"


@pytest.mark.skipif(not Path(COMFY).exists(), reason="comfy-cli is not installed (pip install comfy-cli)")
def test_comfy_cli_validates_and_packs_only_what_comfyui_loads(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    for name in ("pyproject.toml", ".comfyignore", "LICENSE"):  # the working tree's, committed or not
        shutil.copy(REPO / name, clone / name)
    subprocess.run(["git", "add", "-f", "pyproject.toml", ".comfyignore", "LICENSE"], cwd=clone, check=True)
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", "tree"],
                   cwd=clone, check=False)  # the pack is made of committed files; nothing to commit is fine
    run = lambda *args: subprocess.run([COMFY, "--skip-prompt", "--no-enable-telemetry", "node", *args],  # noqa: E731
                                       cwd=clone, capture_output=True, text=True, timeout=300)
    validated = run("validate")
    assert validated.returncode == 0 and "validation checks passed" in validated.stdout + validated.stderr, \
        validated.stdout + validated.stderr
    packed = run("pack")
    assert packed.returncode == 0, packed.stdout + packed.stderr
    names = zipfile.ZipFile(clone / "node.zip").namelist()
    tops = {name.split("/")[0] for name in names}
    assert {"__init__.py", "nodes", "synctweedies", "web", "workflows", "example_inputs", "LICENSE"} <= tops
    assert not tops & {"tests", "benchmarks", ".ci", "docs"}


def test_no_folder_of_the_pack_shadows_the_template_folder():
    """The host serves the first of these folders a pack has at /api/workflow_templates/<pack>/ (thumbnails
    included): only workflows/ may exist."""
    shadowing = ["example_workflows", "example", "examples", "workflow"]
    assert [name for name in shadowing if (REPO / name).exists()] == []

"""The example inputs the templates start from: what ``example_inputs/make_examples.py`` writes, and usable."""
import importlib.util
from pathlib import Path

import pytest

from synctweedies.depth import read_depth
from synctweedies.gaussians import load_gaussians
from synctweedies.mesh import load_mesh

EXAMPLES = Path(__file__).resolve().parents[2] / "example_inputs"


@pytest.fixture(scope="module")
def make_examples():
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_examples_are_the_generated_ones(make_examples, tmp_path):
    make_examples.write_examples(tmp_path)
    for name in make_examples.FILES:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), \
            f"example_inputs/{name} is stale: run python example_inputs/make_examples.py"


def test_the_examples_load_as_a_textured_mesh_a_scene_and_a_depth_map():
    mesh, texture = load_mesh(EXAMPLES / "vase.obj", False)
    assert mesh.has_uvs and len(mesh.faces) > 2000 and texture.size == (256, 256)
    assert len(load_gaussians(EXAMPLES / "gaussians.ply")) == 6000
    depth = read_depth(EXAMPLES / "room_depth.png")
    assert depth.shape == (256, 512) and 1.4 < depth.min() / 1000 and depth.max() / 1000 < 4.0

"""The one camera type: what mesh, Gaussian and panorama rigs are built as, checked against the pinhole model."""
from __future__ import annotations

import math

import torch

from synctweedies.cameras import Cameras, look_at, orbit
from synctweedies.mesh import orbit_cameras
from synctweedies.panorama import PanoramaRig


def pinhole_pixels(cameras: Cameras, points: torch.Tensor) -> torch.Tensor:
    """``[N, P, 2]`` pixels of world ``points`` ``[P, 3]`` by the textbook K [R | t] (as gsplat projects)."""
    camera = torch.einsum("nij,pj->npi", cameras.viewmats[:, :3, :3], points) + cameras.viewmats[:, None, :3, 3]
    pixels = torch.einsum("nij,npj->npi", cameras.Ks, camera / camera[..., 2:3])
    return pixels[..., :2]


def test_perspective_pixels_agree_with_the_pinhole_model_at_any_view_size():
    cameras = orbit([0.0, 70.0, 200.0], [10.0, -20.0, 45.0], 3.0, 55.0, 64, torch.tensor([0.1, 0.2, 0.3]), "z")
    points = torch.randn(50, 3) * 0.5
    pixels = cameras.to_pixels(cameras.to_camera(points), 64)
    torch.testing.assert_close(pixels, pinhole_pixels(cameras, points), atol=1e-3, rtol=0)
    torch.testing.assert_close(cameras.to_pixels(cameras.to_camera(points), 128), 2 * pixels, atol=2e-3, rtol=0)
    bigger = cameras.resized(128)
    torch.testing.assert_close(pinhole_pixels(bigger, points), 2 * pixels, atol=2e-3, rtol=0)
    assert math.isclose(cameras.fov, 55.0, rel_tol=1e-6)


def test_poses_round_trip_and_the_centre_projects_to_the_middle():
    cameras = orbit_cameras(distance=2.5, fov=40.0)
    assert len(cameras) == 10, "eight around and the original's two top cameras"
    torch.testing.assert_close(cameras.positions.norm(dim=1), torch.full((10,), 2.5))
    rotations = torch.stack([look_at(p) for p in cameras.positions])
    torch.testing.assert_close(cameras.rotations, rotations, atol=1e-6, rtol=0)
    middle = cameras.to_pixels(cameras.to_camera(torch.zeros(1, 3)), 100)
    torch.testing.assert_close(middle, torch.full((10, 1, 2), 50.0), atol=1e-4, rtol=0)
    one = cameras[3]
    assert len(one) == 1 and torch.equal(one.viewmats[0], cameras.viewmats[3])
    assert torch.equal(cameras.subset(5).viewmats, cameras.viewmats[[0, 2, 4, 6, 8]])


def test_orthographic_cameras_see_ortho_scale_either_side_without_perspective():
    cameras = orbit_cameras([0.0], [0.0], distance=3.0, top_views=False, orthographic=True, ortho_scale=2.0)
    assert cameras.orthographic and math.isclose(cameras.ortho_scale, 2.0, rel_tol=1e-6)
    near_and_far = torch.tensor([[1.0, 0.5, 1.0], [1.0, 0.5, -1.0], [-2.0, -2.0, 0.0]])
    pixels = cameras.to_pixels(cameras.to_camera(near_and_far), 40)[0]
    torch.testing.assert_close(pixels, torch.tensor([[30.0, 15.0], [30.0, 15.0], [0.0, 40.0]]), atol=1e-4, rtol=0)


def test_a_panorama_rig_is_cameras_at_the_centre_facing_its_angles():
    rig = PanoramaRig(theta_range=(0, 360), theta_interval=90, phi_range=(-30, 31), phi_interval=30, fov=60)
    cameras = rig.cameras(32)
    assert len(cameras) == len(rig.angles()) == 12 and cameras.viewmats.dtype == torch.float64
    torch.testing.assert_close(cameras.positions, torch.zeros(12, 3, dtype=torch.float64))
    forward = cameras.viewmats[:, 2, :3]  # the camera's +z (OpenCV) in world axes
    for (theta, phi), ahead in zip(rig.angles(), forward):
        t, p = math.radians(theta), math.radians(phi)
        expected = torch.tensor([math.cos(p) * math.sin(t), math.sin(p), math.cos(p) * math.cos(t)],
                                dtype=torch.float64)
        torch.testing.assert_close(ahead, expected, atol=1e-12, rtol=0)
    assert math.isclose(cameras.fov, 60.0, rel_tol=1e-12)

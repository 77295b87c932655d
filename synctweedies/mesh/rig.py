"""The original's camera rig around an object, perspective or orthographic."""
from __future__ import annotations

from ..cameras import Cameras, orbit


def orbit_cameras(azimuths: list[float] = (-180, -135, -90, -45, 0, 45, 90, 135),
                  elevations: list[float] = (0,) * 8, distance: float = 2.0, fov: float = 50.0,
                  top_views: bool = True, orthographic: bool = False, ortho_scale: float = 1.1) -> Cameras:
    """The original rig: cameras at ``azimuths``/``elevations`` (degrees) looking at the origin from ``distance``;
    ``top_views`` adds the original's two top cameras, 30° above the front and the back. Orthographic cameras see
    ``ortho_scale`` either side of the origin."""
    angles = list(zip(azimuths, elevations))
    if top_views:
        angles += [(0.0, 30.0), (180.0, 30.0)]
    return orbit([a for a, _ in angles], [e for _, e in angles], distance, fov,
                 ortho_scale=ortho_scale if orthographic else None)

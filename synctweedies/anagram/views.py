"""The view transforms of visual anagrams, as maps from view pixels to canonical pixels.

Every transform returns a :class:`ViewMap`: for each pixel ``(i, j)`` of an ``S`` × ``S`` view, the
canonical row and column it shows. Masks (circles, jigsaw pieces, hinge squares, skew columns,
patches) are decided on a grid of ``cell`` × ``cell`` blocks, so that a map built at ``cell = 8``
moves whole 8-pixel blocks: the pixel-space twin of the same map built on the latent grid.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class ViewMap:
    """Where each view pixel reads the canonical image: ``rows``/``cols`` ``[S, S]`` (float pixel centres)."""

    rows: Tensor
    cols: Tensor
    bilinear: bool = False
    """Interpolate between the four nearest canonical pixels (n-to-1) instead of reading the nearest."""
    sign: float = 1.0
    """-1 for a negated view."""


@dataclass
class ViewOptions:
    """Parameters of the transforms that take any (the original's defaults)."""

    rotate_angle: float = 45.0
    """Degrees clockwise for ``rotate`` and ``inner_rotate``."""
    skew_factor: float = 1.5
    num_patches: int = 8
    """Patches per side for ``patch_permute``."""
    seed: int = 11
    """Seed of the random permutations (``patch_permute``, ``pixel_permute``, ``jigsaw``)."""


def _grid(size: int) -> tuple[Tensor, Tensor]:
    """Row and column index ``[S, S]`` (float)."""
    i = torch.arange(size, dtype=torch.float64)
    return torch.meshgrid(i, i, indexing="ij")


def _rotate_cw(rows: Tensor, cols: Tensor, size: int, quarter_turns: int) -> tuple[Tensor, Tensor]:
    """Where pixels land after ``quarter_turns`` clockwise quarter turns about the image centre."""
    for _ in range(quarter_turns % 4):
        rows, cols = cols, size - 1 - rows
    return rows, cols


def in_circle(size: int, cell: int, radius: float) -> Tensor:
    """``[S, S]`` bool: the pixel's cell centre lies within ``radius`` of the image centre."""
    rows, cols = _grid(size)
    centre = lambda v: (torch.div(v, cell, rounding_mode="floor") + 0.5) * cell - size / 2  # noqa: E731
    return centre(rows).square() + centre(cols).square() < radius ** 2


def _rotation_source(size: int, degrees: float) -> tuple[Tensor, Tensor]:
    """Canonical coordinates seen at each view pixel when the view turns the image ``degrees`` clockwise."""
    rows, cols = _grid(size)
    c = (size - 1) / 2
    theta = math.radians(degrees)
    y, x = rows - c, cols - c
    return -x * math.sin(theta) + y * math.cos(theta) + c, x * math.cos(theta) + y * math.sin(theta) + c


def identity(size: int, cell: int, options: ViewOptions) -> ViewMap:
    return ViewMap(*_grid(size))


def flip(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """Upside down (the original's ``flip``)."""
    rows, cols = _grid(size)
    return ViewMap(size - 1 - rows, cols)


def flip_horizontal(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """Left-right mirror."""
    rows, cols = _grid(size)
    return ViewMap(rows, size - 1 - cols)


def rotate_cw(size: int, cell: int, options: ViewOptions) -> ViewMap:
    rows, cols = _grid(size)
    return ViewMap(*_rotate_cw(rows, cols, size, 3))


def rotate_ccw(size: int, cell: int, options: ViewOptions) -> ViewMap:
    rows, cols = _grid(size)
    return ViewMap(*_rotate_cw(rows, cols, size, 1))


def rotate_180(size: int, cell: int, options: ViewOptions) -> ViewMap:
    rows, cols = _grid(size)
    return ViewMap(*_rotate_cw(rows, cols, size, 2))


def rotate(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """Turned ``rotate_angle`` degrees clockwise with bilinear interpolation (n-to-1); corners show nothing."""
    return ViewMap(*_rotation_source(size, options.rotate_angle), bilinear=True)


def negate(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """Colours negated (``-x`` for images in [-1, 1])."""
    return ViewMap(*_grid(size), sign=-1.0)


def skew(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """Each column of cells rolled down by ``skew_factor`` cells per cell from the centre."""
    rows, cols = _grid(size)
    cells = size // cell
    shift = torch.trunc(options.skew_factor * (torch.div(cols, cell, rounding_mode="floor") - cells // 2)) * cell
    return ViewMap(torch.remainder(rows - shift, size), cols)


def _permuted_patches(size: int, patches: int, seed: int) -> ViewMap:
    """``patches`` × ``patches`` square patches shuffled by a seeded permutation."""
    if size % patches:
        raise ValueError(f"The views are {size} px, which {patches} patches per side do not divide. "
                         f"Use a number of patches that divides {size}.")
    side = size // patches
    order = torch.randperm(patches * patches, generator=torch.Generator().manual_seed(seed)).double()
    rows, cols = _grid(size)
    patch = torch.div(rows, side, rounding_mode="floor") * patches + torch.div(cols, side, rounding_mode="floor")
    source = order[patch.long()]
    return ViewMap(torch.div(source, patches, rounding_mode="floor") * side + rows % side,
                   source % patches * side + cols % side)


def patch_permute(size: int, cell: int, options: ViewOptions) -> ViewMap:
    return _permuted_patches(size, options.num_patches, options.seed)


def pixel_permute(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """Every cell (a latent pixel, or its 8-pixel block) shuffled."""
    return _permuted_patches(size, size // cell, options.seed)


def square_hinge(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """A 3 × 3 grid of squares, each turned a quarter, alternating clockwise and anticlockwise."""
    rows, cols = _grid(size)
    side = size // cell // 3 * cell
    if side == 0:
        raise ValueError(f"square_hinge needs views of at least 3 cells; these are {size // cell}.")
    out_rows, out_cols = rows.clone(), cols.clone()
    for a in range(3):
        for b in range(3):
            inside = (rows >= a * side) & (rows < (a + 1) * side) & (cols >= b * side) & (cols < (b + 1) * side)
            u, v = rows[inside] - a * side, cols[inside] - b * side
            src_u, src_v = (side - 1 - v, u) if (a + b) % 2 == 0 else (v, side - 1 - u)
            out_rows[inside], out_cols[inside] = src_u + a * side, src_v + b * side
    return ViewMap(out_rows, out_cols)


def inner_circle(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """A central disc (radius 3/8 of the side) turned half a turn; the border stays."""
    rows, cols = _grid(size)
    inside = in_circle(size, cell, 0.375 * size)
    return ViewMap(torch.where(inside, size - 1 - rows, rows), torch.where(inside, size - 1 - cols, cols))


def inner_rotate(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """A central disc turned ``rotate_angle`` degrees clockwise, nearest pixel (1-to-n); the border stays."""
    rows, cols = _grid(size)
    inside = in_circle(size, cell, 0.375 * size)
    src_rows, src_cols = _rotation_source(size, options.rotate_angle)
    return ViewMap(torch.where(inside, src_rows.round(), rows), torch.where(inside, src_cols.round(), cols))


JIGSAW_ORBITS = [
    [(0, 0), (0, 3), (3, 3), (3, 0)],  # corners
    [(1, 1), (1, 2), (2, 2), (2, 1)],  # inner pieces
    [(0, 1), (1, 3), (3, 2), (2, 0)],  # edge pieces, one of each side
    [(0, 2), (2, 3), (3, 1), (1, 0)],  # the other edge piece of each side
]
"""The 4 × 4 pieces grouped by quarter turns about the centre: each next one is a clockwise turn on."""


def jigsaw_pieces(size: int, cell: int, seed: int) -> Tensor:
    """``[S, S]`` piece id (``row * 4 + col`` of the 4 × 4 grid) with round tabs, decided per cell.

    The tabs are laid out symmetrically under quarter turns, so a piece turned onto another
    position's place fits it exactly.
    """
    cells = size // cell
    if cells % 4:
        raise ValueError(f"jigsaw needs views whose side in cells is a multiple of 4; these are {cells}.")
    piece = cells / 4
    centre_rows, centre_cols = (torch.div(v, cell, rounding_mode="floor") + 0.5 for v in _grid(size))
    pieces = (torch.div(centre_rows, piece, rounding_mode="floor") * 4
              + torch.div(centre_cols, piece, rounding_mode="floor")).long()
    generator = torch.Generator().manual_seed(seed)
    radius = 0.2 * piece
    # Quarter turns map the 24 edges between pieces into 6 orbits; one tab per orbit is drawn and turned.
    # (a, b): the edge below piece (a, b); the six are a representative of each orbit.
    for a, b in [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]:
        grows_down = bool(torch.randint(2, (1,), generator=generator))
        row, col = (a + 1) * piece, (b + 0.5) * piece
        owner = (a, b) if grows_down else (a + 1, b)
        for _ in range(4):
            disc = (centre_rows - row).square() + (centre_cols - col).square() < radius ** 2
            pieces[disc] = owner[0] * 4 + owner[1]
            row, col, owner = col, cells - row, (owner[1], 3 - owner[0])
    return pieces


def jigsaw(size: int, cell: int, options: ViewOptions) -> ViewMap:
    """A 4 × 4 jigsaw whose pieces are shuffled among the places a quarter turn reaches."""
    pieces = jigsaw_pieces(size, cell, options.seed)
    generator = torch.Generator().manual_seed(options.seed)
    rows, cols = _grid(size)
    out_rows, out_cols = rows.clone(), cols.clone()
    for orbit in JIGSAW_ORBITS:
        order = torch.randperm(4, generator=generator).tolist()
        for source_turns, target_turns in enumerate(order):
            a, b = orbit[target_turns]
            here = pieces == a * 4 + b
            src = _rotate_cw(rows[here], cols[here], size, source_turns - target_turns)
            out_rows[here], out_cols[here] = src
    return ViewMap(out_rows, out_cols)


VIEWS = {
    "identity": identity, "flip": flip, "flip_horizontal": flip_horizontal, "rotate_cw": rotate_cw,
    "rotate_ccw": rotate_ccw, "rotate_180": rotate_180, "rotate": rotate, "negate": negate, "skew": skew,
    "patch_permute": patch_permute, "pixel_permute": pixel_permute, "jigsaw": jigsaw,
    "square_hinge": square_hinge, "inner_circle": inner_circle, "inner_rotate": inner_rotate,
}
"""View name (the original's ``--views_names``) → the function that builds its map."""

PIXEL_ONLY_VIEWS = ("rotate", "negate")
"""Views that are not a rearrangement of cells: with a latent model they need pixel-space averaging."""

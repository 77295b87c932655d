"""What every application's canonical space shares: the base class (``project`` and ``unproject``), spaces of
indexed views, warps, taps, fill, canonical fits and pixel-space synchronization through a VAE."""
from .base import CanonicalSpace, ViewSubset
from .fitting import fit_canonical
from .indexed import IndexedSpace
from .pixel_sync import PixelSynchronizedSpace

__all__ = ["CanonicalSpace", "IndexedSpace", "PixelSynchronizedSpace", "ViewSubset", "fit_canonical"]

"""Wide canvases: a canvas larger than the model's image, painted as overlapping windows; one fitted to an image."""
from .fit import ImageCanvas
from .wide_canvas import MAX_WINDOWS, WEIGHTINGS, WideCanvas, coarse_problem, window_count, windows_problem

__all__ = ["WideCanvas", "ImageCanvas", "WEIGHTINGS", "MAX_WINDOWS", "coarse_problem", "window_count",
           "windows_problem"]

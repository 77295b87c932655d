"""Wide canvases: a canvas larger than the model's image, painted as overlapping windows."""
from .wide_canvas import MAX_WINDOWS, WEIGHTINGS, WideCanvas, window_count, windows_problem

__all__ = ["WideCanvas", "WEIGHTINGS", "MAX_WINDOWS", "window_count", "windows_problem"]

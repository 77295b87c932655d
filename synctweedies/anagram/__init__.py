"""Ambiguous images (visual anagrams): one image that reads differently under each view, and its animation."""
from .animation import anagram_animation, view_frame
from .space import INVERSE_FITS, AnagramSpace
from .views import VIEWS as ANAGRAM_VIEWS
from .views import ViewOptions

__all__ = ["AnagramSpace", "ANAGRAM_VIEWS", "ViewOptions", "INVERSE_FITS", "anagram_animation", "view_frame"]

"""A stand-in for torchvision, put on the path of host tests only when the real one cannot be imported.

The ComfyUI host imports torchvision at module level for models these tests never load (Stable
Cascade's EfficientNet, Cosmos, ACE); the CPU torch of the test install has no matching torchvision
build. Every ``torchvision.*`` module resolves to a stand-in, and any use of one raises, so a test
that did need torchvision would fail loudly.
"""
import importlib.abc
import importlib.machinery
import sys
import types


class _Unavailable:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> "_Unavailable":
        return _Unavailable(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self._name} needs torchvision, which the test environment does not install.")


class _StandInModule(types.ModuleType):
    __path__: list = []

    def __getattr__(self, attr: str) -> _Unavailable:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Unavailable(f"{self.__name__}.{attr}")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _StandInModule(spec.name)

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Finder())
__path__ = []


def __getattr__(name: str) -> _Unavailable:
    if name.startswith("__"):
        raise AttributeError(name)
    return _Unavailable(f"torchvision.{name}")

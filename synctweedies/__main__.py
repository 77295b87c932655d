"""``python -m synctweedies --app ...`` (one run) or ``python -m synctweedies batch MANIFEST`` (many), from the
pack's folder; from anywhere else (the ComfyUI folder, say) ``python path/to/ComfyUI-SyncTweedies/synctweedies
...``. See :mod:`synctweedies.standalone`."""
import sys
from pathlib import Path

if not __package__:  # run as `python path/to/synctweedies`: import the pack's library by its name
    sys.path[0] = str(Path(__file__).resolve().parents[1])
    __package__ = "synctweedies"  # noqa: A001

if sys.argv[1:2] == ["batch"]:
    from .standalone.batch import main

    sys.exit(main(sys.argv[2:]))
from .standalone.cli import main  # noqa: E402

sys.exit(main())

"""``python -m synctweedies --app ...``: see :mod:`synctweedies.cli`."""
import sys

from .cli import main

sys.exit(main())

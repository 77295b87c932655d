"""``python -m synctweedies --app ...`` (one run) or ``python -m synctweedies batch MANIFEST`` (many): see
:mod:`synctweedies.standalone`."""
import sys

if sys.argv[1:2] == ["batch"]:
    from .standalone.batch import main

    sys.exit(main(sys.argv[2:]))
from .standalone.cli import main

sys.exit(main())

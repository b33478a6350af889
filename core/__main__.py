"""``python -m core``: the capture engine's command line (see ``python -m core --help``)."""

import sys

from .cli import main

sys.exit(main())

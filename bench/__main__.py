"""``python -m bench``: benchmark command line."""

import sys

from .cli import main

sys.exit(main())

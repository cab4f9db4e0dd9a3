"""``python -m rtanalytics``: the same as the ``rtanalytics`` command."""

import sys

from .cli import main

sys.exit(main())

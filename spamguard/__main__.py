"""``python -m spamguard``: the same as the ``spamguard`` command."""

import sys

from .cli import main

sys.exit(main())

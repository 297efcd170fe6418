"""``python -m inkread`` runs the command line."""

import sys

from inkread.cli import main

sys.exit(main())

"""``python -m voxlab`` runs the command line."""

import sys

from voxlab.cli.main import main

sys.exit(main())

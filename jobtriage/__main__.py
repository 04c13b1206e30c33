"""`python -m jobtriage` — see jobtriage/cli.py."""

import sys

from jobtriage.cli import main

sys.exit(main())

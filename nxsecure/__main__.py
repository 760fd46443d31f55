"""`python -m nxsecure`: the command line of nxsecure/cli.py (host only)."""
# nxsecure: cpython-only (tools/profiles.py HOST_ONLY: never installed on a board)
import sys

from .cli import main

sys.exit(main())

"""`python -m hessian_lab ...` runs the command line (see hessian_lab.cli)."""

import sys

from .cli import main

sys.exit(main())

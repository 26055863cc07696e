"""``python -m chainrule``: the command line (what ``chainrule train --nproc N`` starts in each rank)."""

import sys

from .cli import main

sys.exit(main())

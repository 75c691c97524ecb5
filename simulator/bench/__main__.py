"""``python -m simulator.bench``: see :mod:`simulator.bench.cli`."""

import sys

from simulator.bench.cli import main

sys.exit(main())

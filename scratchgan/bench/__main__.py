"""``python -m scratchgan.bench``: the same as ``scratchgan bench``."""
import sys

from scratchgan.bench.run import main

sys.exit(main())

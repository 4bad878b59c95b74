import sys

from scratchgan.cli import main

sys.exit(main())

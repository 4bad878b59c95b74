"""Op cases by family; importing this package registers them all in ``CASES``."""
from scratchgan.testing.cases import (activation, arithmetic, array, conv, dropout,  # noqa: F401
                                      linear, loss, normalization)

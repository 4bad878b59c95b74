"""Op cases by family; importing this package registers them all in ``CASES``."""
from scratchgan.testing.cases import (activation, arithmetic, array, conv, linear, loss,  # noqa: F401
                                      normalization)

"""scratchgan.testing's checks refuse to check nothing."""
import numpy as np
import pytest

from scratchgan import functions as F
from scratchgan.testing import check_backward, check_double_backward


@pytest.mark.parametrize("check", [check_backward, check_double_backward])
def test_a_check_without_inputs_is_refused(check):
    with pytest.raises(ValueError, match=f"{check.__name__}: xs is empty, so there is no input "
                                         "to differentiate with respect to and nothing to check"):
        check(lambda: F.exp(np.ones(2)), [])


@pytest.mark.parametrize("check", [check_backward, check_double_backward])
def test_a_check_with_one_input_runs(check):
    assert check(F.exp, [np.array([0.5, -1.0])]).ok

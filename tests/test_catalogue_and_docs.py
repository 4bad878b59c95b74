"""Every Function is documented, in docs/derivatives.md, and covered by an op case."""
import pytest

from scratchgan import docgen
from scratchgan.testing import all_cases

ALL_FUNCTIONS = [c for classes in docgen.functions_by_family().values() for c in classes]


@pytest.mark.parametrize("cls", ALL_FUNCTIONS, ids=lambda c: c.__name__)
def test_function_docstring_has_the_sections(cls):
    assert not docgen.missing_sections(cls), (
        f"{cls.__name__}'s docstring lacks {docgen.missing_sections(cls)}")


@pytest.mark.parametrize("cls", ALL_FUNCTIONS, ids=lambda c: c.__name__)
def test_every_function_is_exercised_by_an_op_case(cls):
    covered = {f for case in all_cases().values() for f in case.functions}
    assert cls in covered, f"no op case in scratchgan/testing/cases exercises {cls.__name__}"


def test_derivatives_doc_is_up_to_date():
    assert docgen.DOC_PATH.exists(), "docs/derivatives.md is missing: run python -m scratchgan.docgen"
    assert docgen.DOC_PATH.read_text() == docgen.render(), (
        "docs/derivatives.md is stale: run python -m scratchgan.docgen")

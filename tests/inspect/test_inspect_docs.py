"""The walk-through in docs/studying-gradients.md and the README stay in step with
`scratchgan explain`: every Function its graph shows is in the page, linked to its table
in docs/derivatives.md (regenerate with `python -m scratchgan.inspect.explain`)."""
from pathlib import Path

from scratchgan.docgen import functions_by_family
from scratchgan.inspect.explain import DOC_COMMAND, explain

ROOT = Path(__file__).resolve().parents[2]


def test_every_formula_shown_is_linked_to_derivatives_md():
    page = (ROOT / "docs" / "studying-gradients.md").read_text()
    derivatives = (ROOT / "docs" / "derivatives.md").read_text()
    family = {c.__name__: f for f, classes in functions_by_family().items() for c in classes}
    g = explain(*DOC_COMMAND, check=False).graph
    for name in g.counts():
        formula = next(n.formula for n in g if n.name == name)
        row = f"| `{name}` |"
        assert row in page, f"{name} missing: run python -m scratchgan.inspect.explain"
        line = next(l for l in page.splitlines() if l.startswith(row))
        assert formula.replace("|", "\\|") in line
        assert f"(derivatives.md#{family[name]})" in line
        assert f"## {family[name]}" in derivatives and f"| `{name}` |" in derivatives
    assert f"$ scratchgan explain --loss {DOC_COMMAND[0]} --model {DOC_COMMAND[1]}" in page


def test_readme_walks_through_explain():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Studying gradients", 1)[1].split("\n## ", 1)[0]
    assert "scratchgan explain --loss wgan-gp --model mlp" in section
    assert "(docs/studying-gradients.md)" in section and "(docs/derivatives.md)" in section
    assert "LeakyReLUGrad" in section and "all nodes agree" in section

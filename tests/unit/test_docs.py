"""The docs say what the code does: generated support matrix, existing files, every experiment."""
import re
from pathlib import Path

from neurosim.backends import support_matrix_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_backends_doc_matrix_is_generated():
    text = (ROOT / "docs" / "backends.md").read_text()
    block = re.search(r"<!-- support-matrix:start -->\n(.*)\n<!-- support-matrix:end -->", text, re.S)
    assert block, "docs/backends.md lost its support-matrix markers"
    assert block.group(1).strip() == support_matrix_markdown().strip(), (
        "docs/backends.md is out of date: paste the output of `neurosim info --markdown` "
        "between the support-matrix markers")


def test_docs_name_files_that_exist():
    for doc in ("backends.md", "models.md", "file_format.md"):
        text = (ROOT / "docs" / doc).read_text()
        for path in re.findall(r"`((?:notebooks|tests|neurosim|docs|models|experiments)/[\w./]+)`", text):
            assert (ROOT / path).exists(), f"docs/{doc} names {path}, which does not exist"


def test_readme_lists_every_experiment():
    from neurosim.experiments import EXPERIMENTS
    text = (ROOT / "README.md").read_text()
    listed = text[text.index("Experiments (`neurosim list`)"):]
    listed = listed[:listed.index("docs/models.md")]
    missing = [name for name in EXPERIMENTS if f"`{name}`" not in listed]
    assert not missing, f"README's experiment list lacks {missing}"

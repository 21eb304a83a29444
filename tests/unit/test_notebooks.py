"""Every notebook in notebooks/ runs top to bottom, and none is committed with outputs.

Notebooks run in a fresh python3 kernel (nbclient) in a temporary folder, with
NEUROSIM_NOTEBOOK_QUICK=1 so they use short durations.  A cell that raises
fails the test; nothing is skipped.
"""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
EXPECTED = {"01_quickstart.ipynb", "02_custom_models.ipynb", "03_backends.ipynb", "ca3_cam.ipynb",
            "htm.ipynb", "astrocytes.ipynb", "stdp_assemblies.ipynb"}


def test_notebooks_present():
    assert EXPECTED <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {k} has outputs; clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {k} has an execution count"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSIM_NOTEBOOK_QUICK", "1")   # the kernel inherits this environment
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert os.listdir(tmp_path) == []   # notebooks clean up after themselves

"""The neurosim model library: builders that return a Network (installed as neurosim.models)."""

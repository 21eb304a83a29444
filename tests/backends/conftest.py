"""The behavioural suite runs on every backend listed here.

A backend that is listed but cannot be imported fails its tests loudly;
nothing is skipped silently.
"""
import pytest

BACKENDS = ["numba", "brian2"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param

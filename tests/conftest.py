import os
from pathlib import Path

import pytest
import torch

# two threads serially; one per worker under pytest-xdist (scripts/test runs two workers)
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)
REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


@pytest.fixture
def repo_root() -> Path:
    return REPO


def pytest_collection_modifyitems(config, items):
    """Slow end-to-end tests first (file order kept): under pytest-xdist (`--dist loadfile
    --no-loadscope-reorder`) the files holding them are handed out first, so each worker starts on a long
    pipeline and the short files fill the gaps, instead of a long pipeline starting last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)

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

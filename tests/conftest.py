import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(2)
REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


@pytest.fixture
def repo_root() -> Path:
    return REPO

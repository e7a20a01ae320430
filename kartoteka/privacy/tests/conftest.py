"""Fixtures of the privacy tests: the erasure journal in a temporary data directory."""

import pytest


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """The journal (DATA_DIR/erasures.jsonl) goes to a per-test directory."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR

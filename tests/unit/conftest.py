"""Shared fixtures of the unit tests (pure functions: no Redis, no server)."""
from __future__ import annotations

from pathlib import Path

import pytest

from rooms.program import Program, load_program

REPO = Path(__file__).resolve().parents[2]
SEED_PATH = REPO / "config" / "events" / "cooperatieve-stad-2022.toml"


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return SEED_PATH


@pytest.fixture(scope="session")
def seed() -> Program:
    """The seed evening, loaded once (Program is frozen, so sharing it is safe)."""
    return load_program(SEED_PATH)

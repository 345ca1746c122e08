"""What the report tests share: the writable demo's sessions, and settings with a template that fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from sqlalchemy.orm import Session, sessionmaker

from obslab.db import make_engine, make_session_factory
from obslab.settings import Settings

#: A template whose third cell fails: the runner must record that cell and its error.
FAILING = new_notebook(
    cells=[
        new_code_cell('night: str = ""  # a night', metadata={"tags": ["parameters"]}),
        new_code_cell("ratio = 1"),
        new_code_cell("ratio / 0  # the template's own bug"),
    ],
    metadata={
        "kernelspec": {"name": "obslab", "display_name": "obslab", "language": "python"},
        "obslab": {"version": "1"},
    },
)


@pytest.fixture
def sessions(writable_demo_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(writable_demo_database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(writable_demo_database: str, tmp_path: Path) -> Settings:
    own = tmp_path / "templates"
    own.mkdir()
    nbformat.write(FAILING, own / "broken.ipynb")
    return Settings(database_url=writable_demo_database, data_dir=tmp_path / "data", report_templates_dir=own)

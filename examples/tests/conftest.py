"""The example app, served on memory:// for each test that asks for ``files``."""

from __future__ import annotations

from examples.files import app
from vincent_core.testing import app_fixture

files = app_fixture(app)

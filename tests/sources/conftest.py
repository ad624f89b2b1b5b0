import pytest

from tests.fakes.github_server import FakeGitHub
from tests.sources.github_support import TOKEN, TOKEN_ENV


@pytest.fixture
def github(monkeypatch):
    """A started fake GitHub accepting TOKEN, with TOKEN in the variable the test configs name."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with FakeGitHub(tokens=(TOKEN,)) as server:
        yield server

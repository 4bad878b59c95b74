"""The dataset tests never reach the network, and run in a private data environment."""
import pytest

from scratchgan.data import download
from scratchgan.data.cache import CACHE_ENV_VAR
from scratchgan.data.sources import DATA_ENV_VAR


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Only file:// URLs open; anything else fails the test."""
    real_urlopen = download.urlopen

    def local_only(url, *args, **kwargs):
        if not str(url).startswith("file:"):
            raise AssertionError(f"a test tried to reach the network: {url}")
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(download, "urlopen", local_only)


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """An empty cache folder (returned) and no $SCRATCHGAN_DATA."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV_VAR, str(cache))
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    return cache

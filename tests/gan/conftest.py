import pytest


@pytest.fixture(autouse=True, scope="session")
def dataset_cache_in_tmp(tmp_path_factory):
    """Generated datasets are cached once per test session, never in the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCRATCHGAN_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield

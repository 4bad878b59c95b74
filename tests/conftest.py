import os

from hypothesis import settings

# "ci" keeps the suite inside its time budget on 2 cores; "thorough" draws more.
settings.register_profile("ci", max_examples=40, deadline=None)
settings.register_profile("thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

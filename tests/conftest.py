"""Shared pytest settings for hessian-lab's tests."""

from hypothesis import settings

# Timing-independent examples: no per-example deadline on a slow or busy machine, and a
# reproduction blob printed with every failure. Loaded always, locally and in CI alike.
settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile("ci")

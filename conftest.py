"""The repository's own pytest configuration.

The suite's options, the `target` fixture and its hooks live in `fpjs_conformance/plugin.py`,
registered by the `pytest11` entry point once the package is installed (`pip install -e .`): the
same plugin runs here and in a user's project (`pytest --pyargs fpjs_conformance`). Run profiles
(`--hypothesis-profile default|ci|nightly`) are in `fpjs_conformance/explore.py`.
"""

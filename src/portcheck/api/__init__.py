"""The Python API (`import portcheck`): the functions the commands are built on.

`portcheck/__init__.py` re-exports the public names lazily, so `import portcheck` stays as cheap as the
CLI's start-up needs; the modules here import what they use on first call. docs/api.md is the
reference; tests/api/test_api_docs.py keeps it in step with these signatures.
"""

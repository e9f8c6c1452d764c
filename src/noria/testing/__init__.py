"""Conformance suites for noria's extension points, shipped for your own implementations.

Each suite is a pytest class to subclass in your tests, with one fixture to provide, and a set
of plain ``check_*`` functions:

- drift test: :class:`noria.testing.drift.DriftTestSuite`, fixture ``drift_test``
  (or :func:`noria.testing.drift.check_drift_test`).

The suites need pytest (``pip install 'noria[dev]'``); nothing in noria imports this package.
"""

"""Conformance suites for noria's extension points, shipped for your own implementations.

As Optuna ships its storage tests and scikit-learn ``check_estimator``, each suite here is a
pytest class to subclass in your tests, with one fixture to provide:

- executor: :class:`noria.testing.executors.ExecutorSuite`, fixture ``executor``.

The suites need pytest (``pip install 'noria[dev]'``); nothing in noria imports this package.
"""

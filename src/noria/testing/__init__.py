"""Conformance suites for noria's extension points, shipped for your own implementations.

As Optuna ships its storage tests and scikit-learn ``check_estimator``, each suite here is a
pytest class to subclass in your tests, with one fixture to provide:

- artifact store: :class:`noria.testing.artifact_store.ArtifactStoreSuite`, fixture
  ``artifact_store``;
- metadata store and its backend: :class:`noria.testing.metadata.MetadataStoreSuite`, fixture
  ``metadata_store``;
- executor: :class:`noria.testing.executors.ExecutorSuite`, fixture ``executor``;
- drift test: :class:`noria.testing.drift.DriftTestSuite`, fixture ``drift_test``.

Example::

    import pytest
    from noria.testing.artifact_store import ArtifactStoreSuite

    class TestMyStore(ArtifactStoreSuite):
        @pytest.fixture
        def artifact_store(self, tmp_path):
            return MyStore(tmp_path)

:mod:`noria.testing.servers` starts throwaway PostgreSQL and S3-compatible servers on
127.0.0.1 to run the suites against. The suites need pytest (``pip install 'noria[dev]'``);
nothing in noria imports this package.
"""

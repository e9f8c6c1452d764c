"""noria's benchmarks against its peers; run with `.venv/bin/python -m bench [NAME]`."""

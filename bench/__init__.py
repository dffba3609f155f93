"""Benchmarks: standalone scripts, not part of the test run (`.venv/bin/python bench/<name>.py`)."""

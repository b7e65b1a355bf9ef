"""Benchmarks: `python -m bench.NAME`; results recorded in bench/RESULTS.md."""

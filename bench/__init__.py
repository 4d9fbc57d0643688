"""Benchmarks (not part of the test suite): `make bench`, results in bench/README.md."""

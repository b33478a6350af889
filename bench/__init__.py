"""Benchmarks and evaluation protocols: ``python -m bench --help``. Every command prints one JSON
object as its last stdout line, with the machine it ran on."""

"""Benchmarks for Pesä: data generator (`bench.generate`), article specs (`bench.articles`)."""

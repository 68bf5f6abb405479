"""Baselines the Pesä API is compared with, mounted by bench.urls only (never in cms.urls)."""

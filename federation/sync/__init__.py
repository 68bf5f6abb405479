"""The sync engine: `sync_source` runs one source's importer and applies what changed."""

from federation.sync.orchestration import sync_source

__all__ = ["sync_source"]

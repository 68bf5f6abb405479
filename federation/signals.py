"""Signals other apps listen to. The federation never imports its listeners."""

from django.dispatch import Signal

# Sent inside the sync transaction, after a run's changes are written and before they
# commit, so a listener's own writes (the API's change log) commit or roll back with them.
# kwargs: source (Source), run (SyncRun), changes: {kind: {"upserted": [pk…], "withdrawn": [pk…]}}
# with kind in "organization", "channel", "service".
records_changed = Signal()

"""Signals other apps listen to. The federation never imports its listeners."""

from django.dispatch import Signal

# Sent inside the sync transaction, after a run's changes are written and before they
# commit, so a listener's own writes (the API's change log) commit or roll back with them.
# kwargs: source (Source), run (SyncRun), changes: {kind: {"upserted": pks, "withdrawn": pks}}
# with kind in "organization", "channel", "service"; pks is a sequence of ints (an
# `array("q")` from a sync: 8 bytes a pk, as a first sync names every row it wrote).
records_changed = Signal()

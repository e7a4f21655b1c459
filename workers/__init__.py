"""Background work: RQ job functions, object-store backends, and the periodic schedule.

Depends on `gitstore` and, for bookkeeping, on the app's models; never on web views.
"""

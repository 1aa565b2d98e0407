"""Work that more than one process may do: which process is the scheduler (lock), and the task
queue that spreads collection, ingest, reports, notifications and retraining over workers.

The embedded default (one process on SQLite, no broker) runs every task in process, as before.
"""

"""Alerts: rules over posts, topics, cases and sources that tell monitors what needs them now.

settings.py reads the district file's `alerts:` section; rules.py finds the conditions that hold
(pure queries, one function per rule); engine.py turns them into deduplicated Alert rows, clears
the ones that stopped holding, notifies monitors and records acknowledgements. Kept import-light
so the district file can be parsed without the database.
"""

"""Ingest, the first stage: sources and their runs, file import, checking each item on the way in,
storing it once (unique per source and external id) and linking duplicates to their original."""

"""People and units: the directory of units and user accounts, and personal API tokens."""

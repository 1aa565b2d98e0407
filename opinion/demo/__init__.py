"""Demo data: the district's units and people, and a generated stream of posts (`seed-demo`)."""

"""The district's configuration: the district file (units, categories, deadlines, ladder, alert
rules, word lists, calendar) and the administrators' overrides laid over it."""

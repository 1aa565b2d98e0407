"""The escalation ladder (五级督办): the scheduled tick that reminds and escalates cases whose
deadlines run out."""

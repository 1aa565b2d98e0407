"""Cases (工单), the stage that turns a routed topic into a unit's duty to answer: the lifecycle
and its deadlines, duty rosters, transfers, supervision, replies and the reply templates (口径库)."""

"""在线访谈: a unit's leader answers netizens live, and what cannot be answered on the spot becomes a case.

An admin or monitor schedules the interview (opinion.interviews.live); netizens' questions come
in beforehand and during it, from the public form, the API or a collected post
(opinion.interviews.questions), masked and merged with earlier copies as they arrive; monitors
screen them (采用/不采用/合并, with the 错敏词 list of the reply check); the leader's office
answers the adopted ones; the transcript (opinion.interviews.transcript) is published as a page
and a Word document. A question that needs follow-up opens an ordinary case for the unit chosen,
through opinion.cases, so its deadlines and escalation are those of every case.
"""

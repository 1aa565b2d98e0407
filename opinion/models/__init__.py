"""The records: units, people, sources, posts, topics, cases and what happened to them.

One module per domain (base, accounts, topics, posts, cases, alerts, reports, settings, audit, matrix,
interviews); import every name from here, `from opinion.models import Case, db`. Importing this package
defines every table on `db.metadata`, which the migrations compare against.
"""

from opinion.models import accounts, alerts, audit, base, cases, interviews, matrix, posts, reports, settings, topics
from opinion.models.accounts import *  # noqa: F403 - each domain module lists its records in __all__
from opinion.models.alerts import *  # noqa: F403
from opinion.models.audit import *  # noqa: F403
from opinion.models.base import *  # noqa: F403
from opinion.models.cases import *  # noqa: F403
from opinion.models.interviews import *  # noqa: F403
from opinion.models.matrix import *  # noqa: F403
from opinion.models.posts import *  # noqa: F403
from opinion.models.reports import *  # noqa: F403
from opinion.models.settings import *  # noqa: F403
from opinion.models.topics import *  # noqa: F403

__all__ = [name for module in (base, accounts, posts, topics, cases, alerts, reports, settings, audit, matrix,
                               interviews)
           for name in module.__all__]

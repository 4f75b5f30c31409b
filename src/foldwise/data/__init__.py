"""Stage 1, data and folds: a competition's files loaded and checked, dataset converters and
fetching, label cells, text cleaning, and the fold file written once.

The loading lives in :mod:`foldwise.data.competition`; CSV reading in :mod:`foldwise.io.tables`.
"""

from .competition import CompetitionData, load_competition

__all__ = ["CompetitionData", "load_competition"]

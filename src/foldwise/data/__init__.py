"""Stage 1, data and folds: a competition's files loaded and checked, dataset converters and
fetching, label cells, text cleaning, and the fold file written once.

``from foldwise.data import load_competition, CompetitionData, read_csv`` keeps working
(the loading lives in :mod:`foldwise.data.competition`).
"""

from .competition import CompetitionData, load_competition, read_csv

__all__ = ["CompetitionData", "load_competition", "read_csv"]

"""foldwise: a Kaggle-competition submission kit for text.

The modules are grouped by the stage they serve (docs/contributing.md, "Layout"): ``data/``,
``tasks/``, ``models/``, ``train/``, ``stages/``, ``io/``.
"""

__version__ = "0.1.0"

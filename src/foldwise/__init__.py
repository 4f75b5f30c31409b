"""foldwise: a Kaggle-competition submission kit for text.

The modules are grouped by the stage they serve (README, "Architecture"): ``data/``,
``tasks/``, ``models/``, ``train/``, ``stages/``, ``io/``. The old one-floor names
(``foldwise.metrics``, ``foldwise.cv``, ...) still import, as the moved modules.
"""

from ._moved import install as _install_moved_names

__version__ = "0.1.0"

_install_moved_names()

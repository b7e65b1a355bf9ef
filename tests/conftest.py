"""Suite-wide setup.

pyasic 0.79.0 emits pydantic deprecation warnings when it is imported, and the suite turns
warnings into errors; it is imported once here with those silenced.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pyasic  # noqa: F401

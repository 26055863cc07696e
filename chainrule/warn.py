"""chainrule's warnings, attributed to the user's code: ``warn(message)``.

Library code never prints: it warns through ``warnings`` (users silence or turn them into
errors with the usual filters) or logs under ``logging.getLogger("chainrule")``. A warning
shows one source line; this one is the first line outside chainrule on the call stack, the
caller's own, rather than a line deep inside the library.
"""

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category=RuntimeWarning):
    """``warnings.warn(message, category)`` with the stack level of the first caller outside chainrule."""
    frame, level = sys._getframe(1), 2  # stacklevel 2: warn's caller
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)

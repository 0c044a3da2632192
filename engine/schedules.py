"""Facade: ``engine.schedules`` is ``engine.optimizers.schedules`` (the stable, documented API name).

Importing this module makes it the very module object of ``engine.optimizers.schedules``, so code
written against the facade keeps working, and sees the same objects, whatever moves inside.
"""

import sys

from engine.optimizers.schedules import __name__ as _target

sys.modules[__name__] = sys.modules[_target]

"""Facade: ``engine.maps`` is ``engine.landscape.maps`` (the stable, documented API name).

Importing this module makes it the very module object of ``engine.landscape.maps``, so code
written against the facade keeps working, and sees the same objects, whatever moves inside.
"""

import sys

from engine.landscape.maps import __name__ as _target

sys.modules[__name__] = sys.modules[_target]

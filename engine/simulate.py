"""Facade: ``engine.simulate`` is ``engine.landscape.simulate`` (the stable, documented API name).

Importing this module makes it the very module object of ``engine.landscape.simulate``, so code
written against the facade keeps working, and sees the same objects, whatever moves inside.
"""

import sys

from engine.landscape.simulate import __name__ as _target

sys.modules[__name__] = sys.modules[_target]

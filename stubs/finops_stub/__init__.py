"""A small real service that plays any stub role of the FinOps platform.

One package for every role: the component name, its kind and its calls come
from the topology (rendered into ``STUB_CONFIG``); secrets come from files.
"""

__version__ = "0.1.0"

"""Typing information for the whole catalogue, generated from the specs.

``tools/gen_stubs.py`` is the command; this package holds its parts:

- :mod:`.tree`: the chain tree as the runtime resolves attribute names (only
  attributes that really reach their segment are typed);
- :mod:`.schema_types`: JSON Schema -> Python type expressions and ``TypedDict``s;
- :mod:`.nodes`: one module per catalogue area with a class per chain node;
- :mod:`.layout`: which file holds what, and the whole generation in one call.
"""

from .layout import generate

__all__ = ["generate"]

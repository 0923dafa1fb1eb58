"""A griffe extension for the API pages: Sphinx roles in docstrings as inline code.

Some docstrings name code as reST does (:class:`~opsgym.agents.scaling.RewardScaler`);
the API pages read them as Markdown, where the role would show as written. Each
becomes the inline code `RewardScaler` (a leading ~ keeps the last name, as in Sphinx).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|mod|func|meth|attr|data|exc|obj):`(~?)([^`]+)`")


def as_code(match: re.Match) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


class SphinxRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(as_code, obj.docstring.value)

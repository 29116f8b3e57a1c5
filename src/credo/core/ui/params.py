"""The filter values of a list page, for its template: ``{{ params.status }}``.

A list view used to hand ``request.GET`` to the template. A ``QueryDict`` raises for a key
that is not in the query string, and the template engine then tries an attribute, a list
index and finally ``dir()`` of the whole object before it gives up with an empty string — about
40 failed lookups on the customer list for the unused filters alone. :class:`QueryParams`
holds the last value of each parameter (what ``QueryDict[key]`` returns) and answers "" for an
absent one, which is what the templates already rendered.

It is a plain ``dict``: a template that iterates ``params.items`` must keep the ``QueryDict``
(a key named like a dict method would shadow the method here).
"""

from __future__ import annotations

from typing import Any


class QueryParams(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def query_params(request: Any) -> QueryParams:
    """The request's query string as :class:`QueryParams`."""
    return QueryParams(request.GET.items())

"""Loan products and their versioned terms: services (:mod:`.services`) and pages (:mod:`.views`)."""

from __future__ import annotations

from credo.lending.products.services import (
    check_terms,
    product_create,
    version_new,
    version_publish,
    version_update,
)

__all__ = ["check_terms", "product_create", "version_new", "version_publish", "version_update"]

"""The lawyer's letter (律师函) PDF."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from credo.collections.models import (
    LawyerLetter,
)
from credo.collections.services.cases import overdue_amount
from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import fen_of, format_fen


# --- lawyer's letter -----------------------------------------------------------------------------
def letter_pdf(*, letter: LawyerLetter, actor: Any) -> bytes:
    """The 律师函 PDF, rendered on first download (WeasyPrint is too slow for the batch)."""
    if letter.pdf:
        return bytes(letter.pdf)
    from django.template.loader import render_to_string

    case = letter.case
    loan = case.loan
    html = render_to_string(
        "collections/letter_pdf.html",
        {
            "case": case,
            "loan": loan,
            "customer": case.customer,
            "overdue": format_fen(overdue_amount(loan)),
            "outstanding": format_fen(fen_of(loan.outstanding_principal)),
            "today": clock.today(),
        },
    )
    from weasyprint import HTML

    data = HTML(string=html, base_url=None).write_pdf()
    with transaction.atomic():
        LawyerLetter.objects.filter(pk=letter.pk).update(pdf=data, generated_at=timezone.now())
        audit_record(
            action="collections.letter_generated",
            actor=actor,
            obj=case,
            metadata={"letter": letter.pk},
        )
    return data  # type: ignore[no-any-return]

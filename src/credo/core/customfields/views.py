from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from credo.core.customfields.forms import CustomFieldForm
from credo.core.customfields.models import CustomField, Entity
from credo.core.customfields.services import custom_field_save, has_values

PERM = "customfields.manage_custom_fields"


@login_required
@permission_required(PERM, raise_exception=True)
def field_list(request: HttpRequest) -> HttpResponse:
    entity = request.GET.get("entity") or ""
    qs = CustomField.objects.all()
    if entity in Entity.values:
        qs = qs.filter(entity=entity)
    return render(
        request,
        "customfields/list.html",
        {"fields": qs, "entities": Entity.choices, "entity": entity},
    )


@login_required
@permission_required(PERM, raise_exception=True)
def field_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    entity = request.GET.get("entity") or ""
    if pk:
        instance = get_object_or_404(CustomField, pk=pk)
    else:
        instance = CustomField(entity=entity if entity in Entity.values else Entity.CUSTOMER)
    frozen = bool(pk) and has_values(instance)
    form = CustomFieldForm(request.POST or None, instance=instance, has_values=frozen)
    if request.method == "POST" and form.is_valid():
        custom_field_save(form=form, actor=request.user)
        messages.success(request, _("自定义字段已保存。"))
        return redirect("customfields:list")
    return render(request, "customfields/form.html", {"form": form, "field": instance})

"""The datasets, KPIs and workbench panels the reports offer (registered when imported)."""

from credo.reports import builtin, kpis, workbench

builtin.register()
builtin.register_optional()
kpis.register_builtin()
workbench.register()

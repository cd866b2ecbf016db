"""Plan component kinds: one module per kind, each a ``PlanComponent`` subclass registered
under its ``kind`` (``registry``). Importing this package imports every module in it, so a
new kind is one new module (``docs/plan-components.md``)."""

from __future__ import annotations

import importlib
import pkgutil

from commissions.engine.components.base import Calculation, PayeeCredit, PlanComponent, credited_money
from commissions.engine.components.registry import component_class, component_classes, kinds, register

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "Calculation",
    "PayeeCredit",
    "PlanComponent",
    "component_class",
    "component_classes",
    "credited_money",
    "kinds",
    "register",
]

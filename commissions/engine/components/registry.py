"""The component kinds by their ``kind`` key. A kind module registers its class with
``@register``; ``commissions.engine.components`` imports every module of the package, so a
new kind is one new module."""

from __future__ import annotations

from typing import TypeVar, get_args

from commissions.engine.components.base import PlanComponent

_KINDS: dict[str, type[PlanComponent]] = {}

C = TypeVar("C", bound=PlanComponent)


def register(cls: type[C]) -> type[C]:
    """Class decorator: ``cls`` is the component kind its ``kind`` literal names."""
    literals = get_args(cls.model_fields["kind"].annotation)
    if len(literals) != 1 or not isinstance(literals[0], str):
        raise TypeError(f"{cls.__name__}.kind must be one Literal string, e.g. kind: Literal['tiered']")
    key = literals[0]
    if key in _KINDS and _KINDS[key] is not cls:
        raise TypeError(f"component kind {key!r} is registered twice ({_KINDS[key].__name__}, {cls.__name__})")
    _KINDS[key] = cls
    return cls


def component_classes() -> tuple[type[PlanComponent], ...]:
    """Every registered kind, in listing order."""
    return tuple(sorted(_KINDS.values(), key=lambda cls: cls.listing_order))


def kinds() -> tuple[str, ...]:
    """The ``kind`` keys, in listing order (``tiered, per_deal, bonus, curve, override``)."""
    by_class = {cls: key for key, cls in _KINDS.items()}
    return tuple(by_class[cls] for cls in component_classes())


def component_class(kind: str) -> type[PlanComponent]:
    """The class of ``kind``; an unknown kind is an error, never a default."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown component kind {kind!r} (one of {', '.join(kinds())})") from None

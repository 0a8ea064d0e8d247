"""Amounts: products rounded to the cent, half up, computed in decimal (never binary floats)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")


def arrondi_centime(valeur: Decimal) -> float:
    """Round to the cent, half up (16.575 → 16.58)."""
    return float(valeur.quantize(_CENT, rounding=ROUND_HALF_UP))


def produit(*facteurs: float | int) -> float:
    """Product of the factors, rounded to the cent half up."""
    total = Decimal(1)
    for f in facteurs:
        total *= Decimal(str(f))
    return arrondi_centime(total)


def part(montant: float, pourcentage: float | int) -> float:
    """``pourcentage`` % of ``montant``, rounded to the cent half up."""
    return arrondi_centime(Decimal(str(montant)) * Decimal(str(pourcentage)) / Decimal(100))


def reste(montant: float, rembourse: float) -> float:
    """What is left to pay on ``montant`` once ``rembourse`` is paid, exact to the cent."""
    return arrondi_centime(Decimal(str(montant)) - Decimal(str(rembourse)))


def somme(montants: list[float]) -> float:
    """Sum of amounts, exact to the cent."""
    return arrondi_centime(sum((Decimal(str(m)) for m in montants), Decimal(0)))


def seance_avec_bdk(realisees: int, premiere: int, puis: int, pas: int) -> bool:
    """Whether the coming session carries a BDK (sessions already done = premiere, puis, puis+pas, …)."""
    return realisees == premiere or (realisees >= puis and (realisees - puis) % pas == 0)

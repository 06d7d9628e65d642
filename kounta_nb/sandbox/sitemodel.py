"""What the order generator knows about one site (its menu as sold there, staff pool, registers,
customers, payment methods), and the deterministic draws everything is made from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from .menu import OptionSet, Product, Tax, split_inclusive
from .venues import VenueProfile

__all__ = ["SiteModel", "cumulative", "seed_of"]


def seed_of(*parts: object) -> int:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def cumulative(weights: list[float]) -> list[float]:
    out, t = [], 0.0
    for w in weights:
        t += w
        out.append(t)
    return out


@dataclass
class _Opt:
    id: int
    name: str
    ex_4: int
    tax_4: int
    tax_refs: list[dict]


@dataclass
class _OptSet:
    model: OptionSet
    choices: list[_Opt]  # options that count as a choice (non-default unless always)
    cum: list[float]
    summary: list[dict]  # shared option_sets[] value of the order's options entries


@dataclass
class _Item:
    """A product as sold at one site."""

    id: int
    ref: dict  # {"id", "name"} (shared between records: treat records as read-only)
    ex_4: int
    tax_4: int
    taxes: tuple[Tax, ...]
    tax_refs: list[dict]
    ledger: str
    sets: list[_OptSet]
    category: str
    popularity: float


@dataclass
class SiteModel:
    """Everything the generator needs to know about one site."""

    id: int
    slot: int
    name: str
    code: str
    company_id: int
    tz: ZoneInfo
    profile: VenueProfile
    seed: int
    registers: list[tuple[int, str, str]]  # (id, sale_prefix, return_prefix)
    pool: list[int]
    floater: int | None
    floater_parity: int
    staff_refs: dict[int, dict]  # id → {id, first_name, last_name, email}
    customers: list[dict]  # order customer refs
    customer_cum: list[float]
    customer_since: list[int]  # day ordinal each customer signed up
    methods: dict[str, dict]  # cash, card, amex, gift → {id, name}
    first_open: date  # before this the site did not trade
    catalogue_items: dict[str, tuple[list[_Item], list[float]]] = field(default_factory=dict)
    site_ref: dict = field(default_factory=dict)
    # the menu before the last price rise, and the day the current prices started
    catalogue_before: dict[str, tuple[list[_Item], list[float]]] = field(default_factory=dict)
    price_rise: date = date.min

    @staticmethod
    def menu_for(
        site_id: int,
        categories: dict[str, tuple[int, str, str, str]],
        by_category: dict[str, list[Product]],
        option_sets: dict[str, OptionSet],
        cheaper_by: dict[int, int] | None = None,
    ) -> dict[str, tuple[list[_Item], list[float]]]:
        """The site's menu for the generator; ``cheaper_by`` lowers prices (product id → cents)
        to give the menu as it was before a price rise."""
        sets: dict[str, _OptSet] = {}
        for key, oset in option_sets.items():
            opts = [_Opt(o.id, o.name, o.ex_4, o.tax_4, [t.line_ref() for t in o.taxes]) for o in oset.options]
            weights = list(oset.weights)
            if not oset.always and not oset.multi:
                opts, weights = opts[1:], weights[1:]  # the first option is the default
            sets[key] = _OptSet(oset, opts, cumulative(weights), [oset.summary()])
        out: dict[str, tuple[list[_Item], list[float]]] = {}
        for cat, products in by_category.items():
            items = []
            for p in products:
                if site_id not in p.site_prices:
                    continue
                inc_c, ex_4, tax_4 = p.site_prices[site_id]
                if cheaper_by and p.id in cheaper_by:
                    ex_4, tax_4 = split_inclusive(inc_c - cheaper_by[p.id], p.taxes)
                items.append(_Item(
                    p.id, {"id": p.id, "name": p.name}, ex_4, tax_4, p.taxes,
                    [t.line_ref() for t in p.taxes], categories[cat][2],
                    [sets[s] for s in p.option_sets], cat, p.popularity,
                ))
            if items:
                out[cat] = (items, cumulative([i.popularity for i in items]))
        return out

    def pool_on(self, day: date) -> list[int]:
        if self.floater is not None and day.toordinal() % 2 == self.floater_parity:
            return [*self.pool, self.floater]
        return list(self.pool)

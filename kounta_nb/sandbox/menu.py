"""Menus of the sandbox companies: taxes, categories, products, modifiers, option sets, price lists.

Prices are defined tax-inclusive in whole cents (as on a menu board) and published ex-tax, the
way Kounta does: ``unit_price`` (ex tax) and ``unit_tax`` carry four decimals (``4.0909`` +
``0.4091`` for a $4.50 coffee). See :mod:`kounta_nb.sandbox.orders` for the one rounding rule
applied to line totals.

Money inside the sandbox is integers: ``*_4`` values are ten-thousandths of a dollar, ``*_c``
values are cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Catalogue",
    "OptionSet",
    "Product",
    "Tax",
    "build_catalogue",
    "rhu",
    "split_inclusive",
    "B",
    "BAKERY_CATEGORIES",
    "BAKERY_OPTION_SETS",
    "BAKERY_PRODUCTS",
    "BK",
    "BREKKIE_ADD",
    "C",
    "CBR",
    "DONENESS",
    "EGGS",
    "EXTRAS",
    "GROUP_CATEGORIES",
    "GROUP_OPTION_SETS",
    "GROUP_PREMIUM",
    "GROUP_PRODUCTS",
    "MILK",
    "MIXER",
    "PIE_ADD",
    "R",
    "SIDES",
    "SIZE",
    "SLICING",
]


def rhu(n: int, d: int) -> int:
    """``n / d`` rounded to an integer, halves away from zero (``d`` > 0)."""
    q = (abs(n) * 2 + d) // (2 * d)
    return q if n >= 0 else -q


@dataclass(frozen=True)
class Tax:
    id: int
    code: str
    name: str
    rate_bp: int  # basis points: 1000 = 10 %

    @property
    def rate(self) -> float:
        return self.rate_bp / 10000

    def ref(self) -> dict:
        return {"id": self.id, "code": self.code, "name": self.name, "rate": self.rate}

    def line_ref(self) -> dict:
        return {"id": self.id, "name": self.name, "rate": self.rate}


def split_inclusive(inc_c: int, taxes: tuple[Tax, ...]) -> tuple[int, int]:
    """Tax-inclusive cents → (ex-tax, tax) in ten-thousandths of a dollar; they add up exactly."""
    rate_bp = sum(t.rate_bp for t in taxes)
    total_4 = inc_c * 100
    ex_4 = rhu(total_4 * 10000, 10000 + rate_bp)
    return ex_4, total_4 - ex_4


@dataclass
class OptionSet:
    id: int
    name: str
    options: list[Product] = field(default_factory=list)
    # how an order picks from the set: probability that any non-default option is chosen,
    # whether one option is always chosen (e.g. steak doneness), and option weights.
    pick_p: float = 0.3
    always: bool = False
    weights: tuple[float, ...] = ()
    multi: bool = False  # several options may be chosen (e.g. extras)

    def summary(self) -> dict:
        return {
            "option_set_id": self.id,
            "name": self.name,
            "options": [
                {"product_id": o.id, "name": o.name, "unit_price": o.ex_4 / 10000, "unit_tax": o.tax_4 / 10000}
                for o in self.options
            ],
        }


@dataclass
class Product:
    id: int
    name: str
    category: str  # category key
    inc_c: int  # base tax-inclusive price, cents
    taxes: tuple[Tax, ...]
    cost_ratio: float = 0.3
    venues: tuple[str, ...] = ()  # venue kinds that sell it
    option_sets: tuple[str, ...] = ()
    popularity: float = 1.0
    is_modifier: bool = False
    ex_4: int = 0
    tax_4: int = 0
    site_prices: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # site → (inc_c, ex_4, tax_4)
    code: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    gst_free: bool = False


# ---------------------------------------------------------------------------------------------
# Menu data. (name, inc cents, venues, option sets, popularity, description)

MILK = ("Milk", 0.32, False, False, [
    ("Full cream milk", 0, 30), ("Skim milk", 0, 10), ("Soy milk", 70, 12), ("Oat milk", 80, 26),
    ("Almond milk", 70, 14), ("Lactose-free milk", 50, 8),
])
SIZE = ("Size", 0.35, False, False, [("Regular", 0, 60), ("Large", 80, 40)])
EXTRAS = ("Coffee extras", 0.14, False, True, [
    ("Extra shot", 50, 50), ("Decaf", 0, 15), ("Vanilla syrup", 60, 12), ("Caramel syrup", 60, 10),
    ("Extra hot", 0, 13),
])
EGGS = ("Eggs", 1.0, True, False, [("Poached", 0, 50), ("Fried", 0, 25), ("Scrambled", 0, 25)])
BREKKIE_ADD = ("Breakfast add-ons", 0.35, False, True, [
    ("Add bacon", 550, 35), ("Add avocado", 450, 30), ("Add halloumi", 500, 15),
    ("Add smoked salmon", 650, 10), ("Add hash brown", 350, 20),
])
DONENESS = ("Doneness", 1.0, True, False, [
    ("Rare", 0, 15), ("Medium rare", 0, 45), ("Medium", 0, 30), ("Well done", 0, 10),
])
SIDES = ("Sides", 0.3, False, True, [
    ("Side of fries", 900, 45), ("Green salad", 1000, 25), ("Roast vegetables", 1100, 15),
    ("Garlic bread", 800, 15),
])
MIXER = ("Mixer", 1.0, True, False, [
    ("Cola", 0, 30), ("Soda water", 0, 25), ("Tonic", 0, 30), ("Ginger ale", 0, 15),
])
SLICING = ("Slicing", 0.45, False, False, [("Sliced", 0, 70), ("Unsliced", 0, 30)])
PIE_ADD = ("Pie extras", 0.25, False, True, [("Mushy peas", 250, 40), ("Mash & gravy", 350, 60)])

GROUP_OPTION_SETS = {
    "milk": MILK, "size": SIZE, "extras": EXTRAS, "eggs": EGGS, "brekkie": BREKKIE_ADD,
    "doneness": DONENESS, "sides": SIDES, "mixer": MIXER,
}
BAKERY_OPTION_SETS = {"milk": MILK, "size": SIZE, "extras": EXTRAS, "slicing": SLICING, "pie": PIE_ADD}

# category key → (name, ledger code, description)
GROUP_CATEGORIES = {
    "coffee": ("Coffee", "41100", "Espresso coffee from our house blend"),
    "tea": ("Tea & Chocolate", "41100", "Loose-leaf teas, chai and hot chocolate"),
    "cold": ("Cold Drinks", "41100", "Juices, smoothies, soft drinks and water"),
    "breakfast": ("Breakfast", "41000", "Served until 11:30, all day on weekends"),
    "lunch": ("Lunch", "41000", "Sandwiches, salads and bowls from 11:30"),
    "sweets": ("Cakes & Pastries", "41000", "Baked in-house every morning"),
    "beer": ("Beer & Cider", "41200", "Tap and bottled beer and cider"),
    "wine": ("Wine", "41200", "By the glass and bottle"),
    "cocktails": ("Cocktails", "41200", "Classics and house signatures"),
    "spirits": ("Spirits", "41200", "Served with a mixer of your choice"),
    "snacks": ("Bar Snacks", "41000", "Share plates from the bar kitchen"),
    "entrees": ("Entrées", "41000", "To start"),
    "mains": ("Mains", "41000", "From the wood-fired grill and kitchen"),
    "desserts": ("Desserts", "41000", "Something sweet"),
    "modifiers": ("Modifiers", "41000", "Options, extras and add-ons"),
}
BAKERY_CATEGORIES = {
    "coffee": ("Coffee", "4-1100", "Espresso and filter coffee"),
    "tea": ("Tea & Chocolate", "4-1100", "Teas, chai and hot chocolate"),
    "cold": ("Cold Drinks", "4-1100", "Juices and soft drinks"),
    "bread": ("Bread", "4-1000", "Sourdough and rye, baked overnight (GST-free)"),
    "pastries": ("Pastries", "4-1000", "Croissants, danishes and scrolls"),
    "pies": ("Pies & Savoury", "4-1000", "Hand-made pies, sausage rolls and toasties"),
    "cakes": ("Cakes & Slices", "4-1000", "Cakes, tarts and slices"),
    "modifiers": ("Modifiers", "4-1000", "Options, extras and add-ons"),
}

# The venue kinds, one letter each so that every product below stays one line of its table.
C, B, R = "cafe", "bar", "restaurant"
CBR = (C, B, R)

# key, name, inc cents, venues, option sets, popularity
GROUP_PRODUCTS: dict[str, list[tuple]] = {
    "coffee": [
        ("Flat White", 480, (C, R, B), ("size", "milk", "extras"), 30),
        ("Latte", 480, (C, R, B), ("size", "milk", "extras"), 28),
        ("Cappuccino", 480, (C, R, B), ("size", "milk", "extras"), 22),
        ("Long Black", 430, (C, R, B), ("size", "extras"), 14),
        ("Espresso", 390, (C, R, B), ("extras",), 6),
        ("Piccolo", 420, (C, R), ("milk",), 6),
        ("Mocha", 520, (C,), ("size", "milk", "extras"), 7),
        ("Iced Latte", 600, (C,), ("milk", "extras"), 6),
        ("Cold Brew", 620, (C,), (), 4),
        ("Batch Brew", 450, (C,), (), 5),
    ],
    "tea": [
        ("English Breakfast Tea", 450, (C, R), ("milk",), 6),
        ("Green Tea", 450, (C, R), (), 3),
        ("Peppermint Tea", 450, (C, R), (), 3),
        ("Chai Latte", 520, (C,), ("size", "milk"), 8),
        ("Hot Chocolate", 520, (C,), ("size", "milk"), 6),
        ("Babycino", 150, (C,), (), 3),
    ],
    "cold": [
        ("Fresh Orange Juice", 750, (C, R), (), 6),
        ("Green Smoothie", 990, (C,), (), 4),
        ("Berry Smoothie", 990, (C,), (), 4),
        ("Sparkling Water 750ml", 800, (C, R, B), (), 5),
        ("Lemon Lime Bitters", 650, (B, R), (), 5),
        ("Cola", 550, (C, B, R), (), 6),
        ("Ginger Beer", 600, (C, B, R), (), 3),
    ],
    "breakfast": [
        ("Smashed Avocado", 2200, (C,), ("eggs", "brekkie"), 14),
        ("Eggs on Sourdough", 1600, (C,), ("eggs", "brekkie"), 12),
        ("Big Breakfast", 2600, (C,), ("eggs",), 9),
        ("Bircher Muesli", 1600, (C,), (), 5),
        ("Ricotta Hotcakes", 2100, (C,), (), 7),
        ("Bacon & Egg Roll", 1300, (C,), (), 14),
        ("Banana Bread", 800, (C,), (), 8),
        ("Acai Bowl", 1850, (C,), (), 5),
    ],
    "lunch": [
        ("Chicken Schnitzel Sandwich", 1900, (C,), (), 9),
        ("Reuben Toastie", 1700, (C,), (), 7),
        ("Ham & Cheese Croissant", 1200, (C,), (), 10),
        ("Roast Pumpkin Salad", 1900, (C,), ("brekkie",), 6),
        ("Poke Bowl", 2100, (C,), (), 6),
        ("Soup of the Day", 1500, (C,), (), 4),
    ],
    "sweets": [
        ("Croissant", 600, (C,), (), 12),
        ("Pain au Chocolat", 650, (C,), (), 8),
        ("Almond Croissant", 750, (C,), (), 7),
        ("Lemon Tart", 750, (C, R), (), 4),
        ("Carrot Cake", 800, (C,), (), 5),
        ("Chocolate Brownie", 650, (C,), (), 6),
        ("Cookie", 450, (C,), (), 6),
    ],
    "beer": [
        ("Pale Ale Schooner", 1000, (B, R), (), 30),
        ("Lager Schooner", 950, (B, R), (), 26),
        ("Pale Ale Pint", 1300, (B,), (), 18),
        ("Lager Pint", 1250, (B,), (), 14),
        ("Hazy IPA Pint", 1450, (B,), (), 10),
        ("Apple Cider", 1100, (B, R), (), 8),
        ("Mid-strength Schooner", 850, (B,), (), 6),
        ("Non-alcoholic Lager", 900, (B, R), (), 4),
    ],
    "wine": [
        ("House Sauvignon Blanc Glass", 1200, (B, R), (), 14),
        ("House Shiraz Glass", 1200, (B, R), (), 12),
        ("Pinot Noir Glass", 1500, (B, R), (), 10),
        ("Chardonnay Glass", 1400, (B, R), (), 8),
        ("Rosé Glass", 1300, (B, R), (), 8),
        ("Prosecco Glass", 1300, (B, R), (), 9),
        ("House Shiraz Bottle", 5500, (B, R), (), 4),
        ("Pinot Noir Bottle", 7200, (B, R), (), 4),
        ("Chardonnay Bottle", 6800, (R,), (), 3),
    ],
    "cocktails": [
        ("Espresso Martini", 2200, (B, R), (), 16),
        ("Margarita", 2100, (B,), (), 10),
        ("Negroni", 2100, (B, R), (), 9),
        ("Aperol Spritz", 1900, (B, R), (), 14),
        ("Old Fashioned", 2200, (B,), (), 6),
        ("Mojito", 2000, (B,), (), 7),
    ],
    "spirits": [
        ("House Vodka", 1100, (B,), ("mixer",), 8),
        ("House Gin", 1100, (B,), ("mixer",), 10),
        ("Bourbon", 1200, (B,), ("mixer",), 8),
        ("Dark Rum", 1100, (B,), ("mixer",), 5),
        ("Single Malt Whisky", 1600, (B,), (), 3),
    ],
    "snacks": [
        ("Hot Chips", 900, (B,), (), 20),
        ("Salt & Pepper Squid", 1800, (B,), (), 10),
        ("Chicken Wings", 1700, (B,), (), 12),
        ("Cheese Board", 2600, (B, R), (), 5),
        ("Sliders (3)", 1900, (B,), (), 9),
        ("Marinated Olives", 900, (B, R), (), 7),
        ("Loaded Fries", 1500, (B,), (), 8),
    ],
    "entrees": [
        ("Sourdough & Cultured Butter", 900, (R,), (), 16),
        ("Burrata", 2400, (R,), (), 10),
        ("Kingfish Crudo", 2600, (R,), (), 9),
        ("Grilled Octopus", 2800, (R,), (), 7),
        ("Beef Tartare", 2600, (R,), (), 6),
        ("Crispy Cauliflower", 1900, (R,), (), 8),
    ],
    "mains": [
        ("Scotch Fillet 300g", 5200, (R,), ("doneness", "sides"), 12),
        ("Eye Fillet 250g", 5800, (R,), ("doneness", "sides"), 8),
        ("Market Fish", 4200, (R,), ("sides",), 10),
        ("Roast Chicken", 3800, (R,), ("sides",), 10),
        ("Lamb Shoulder", 4600, (R,), ("sides",), 7),
        ("Mushroom Risotto", 3400, (R,), (), 7),
        ("Pappardelle Ragu", 3600, (R,), (), 9),
        ("Wagyu Burger", 2900, (R,), ("doneness",), 6),
    ],
    "desserts": [
        ("Tiramisu", 1800, (R,), (), 10),
        ("Crème Brûlée", 1700, (R,), (), 8),
        ("Chocolate Fondant", 1900, (R,), (), 8),
        ("Affogato", 1500, (R,), (), 6),
        ("Sorbet", 1200, (R,), (), 4),
    ],
}

BK = "bakery"
BAKERY_PRODUCTS: dict[str, list[tuple]] = {
    "coffee": [
        ("Flat White", 470, (BK,), ("size", "milk", "extras"), 30),
        ("Latte", 470, (BK,), ("size", "milk", "extras"), 26),
        ("Cappuccino", 470, (BK,), ("size", "milk", "extras"), 20),
        ("Long Black", 420, (BK,), ("size", "extras"), 12),
        ("Magic", 480, (BK,), ("milk",), 8),
        ("Filter Coffee", 450, (BK,), (), 6),
    ],
    "tea": [
        ("Chai Latte", 520, (BK,), ("size", "milk"), 8),
        ("Hot Chocolate", 500, (BK,), ("size", "milk"), 6),
        ("Pot of Tea", 480, (BK,), ("milk",), 5),
    ],
    "cold": [
        ("Orange Juice", 650, (BK,), (), 5),
        ("Iced Coffee", 700, (BK,), ("milk",), 4),
        ("Sparkling Water 330ml", 450, (BK,), (), 4),
    ],
    "bread": [
        ("White Sourdough Loaf", 900, (BK,), ("slicing",), 18),
        ("Wholemeal Sourdough Loaf", 950, (BK,), ("slicing",), 10),
        ("Dark Rye Loaf", 1050, (BK,), ("slicing",), 6),
        ("Baguette", 600, (BK,), (), 12),
        ("Fruit Loaf", 1100, (BK,), ("slicing",), 5),
    ],
    "pastries": [
        ("Butter Croissant", 550, (BK,), (), 25),
        ("Almond Croissant", 700, (BK,), (), 12),
        ("Pain au Chocolat", 600, (BK,), (), 12),
        ("Cinnamon Scroll", 650, (BK,), (), 10),
        ("Apricot Danish", 650, (BK,), (), 6),
        ("Cardamom Bun", 650, (BK,), (), 8),
    ],
    "pies": [
        ("Beef Pie", 850, (BK,), ("pie",), 14),
        ("Chicken & Leek Pie", 850, (BK,), ("pie",), 9),
        ("Sausage Roll", 700, (BK,), (), 14),
        ("Spinach & Feta Roll", 700, (BK,), (), 6),
        ("Ham & Cheese Toastie", 1100, (BK,), (), 8),
    ],
    "cakes": [
        ("Vanilla Slice", 700, (BK,), (), 7),
        ("Lemon Meringue Tart", 750, (BK,), (), 5),
        ("Chocolate Cake Slice", 800, (BK,), (), 6),
        ("Portuguese Tart", 450, (BK,), (), 10),
        ("Anzac Biscuit", 350, (BK,), (), 6),
    ],
}

# Shared products cost more in some venues (menu board price differences).
GROUP_PREMIUM = {
    (R, "coffee"): 50, (R, "tea"): 50, (B, "coffee"): 20, (R, "cold"): 50,
    (R, "beer"): 100, (R, "cocktails"): 100, (R, "wine"): 0,
}


@dataclass
class Catalogue:
    """One company's menu: taxes, categories, products, option sets and price lists (as model)."""

    taxes: dict[str, Tax]
    categories: dict[str, tuple[int, str, str, str]]  # key → (id, name, ledger code, description)
    products: dict[int, Product]
    option_sets: dict[str, OptionSet]
    by_venue: dict[str, dict[str, list[Product]]]  # venue kind → category → products sold there


def build_catalogue(
    *,
    company_kind: str,
    tax_ids: tuple[int, int, int],
    category_id0: int,
    product_id0: int,
    option_set_id0: int,
    sites: dict[str, list[int]],  # venue kind → site ids
    site_premium_key: dict[int, str],
) -> Catalogue:
    """Build the menu model for ``company_kind`` ("group" or "bakery")."""
    gst = Tax(tax_ids[0], "GST", "GST", 1000)
    free = Tax(tax_ids[1], "FRE", "GST Free", 0)
    wet = Tax(tax_ids[2], "WET", "Wine Equalisation Tax", 2900)
    taxes = {"GST": gst, "FRE": free}
    if company_kind == "group":
        taxes["WET"] = wet
        cat_defs, prod_defs, set_defs = GROUP_CATEGORIES, GROUP_PRODUCTS, GROUP_OPTION_SETS
    else:
        cat_defs, prod_defs, set_defs = BAKERY_CATEGORIES, BAKERY_PRODUCTS, BAKERY_OPTION_SETS

    categories = {
        key: (category_id0 + i, name, ledger, desc)
        for i, (key, (name, ledger, desc)) in enumerate(cat_defs.items())
    }
    products: dict[int, Product] = {}
    next_id = product_id0
    by_venue: dict[str, dict[str, list[Product]]] = {}

    # Modifier products first (their ids are smaller, like a real menu built up over time).
    option_sets: dict[str, OptionSet] = {}
    for i, (key, (name, pick_p, always, multi, opts)) in enumerate(set_defs.items()):
        oset = OptionSet(option_set_id0 + i, name, pick_p=pick_p, always=always, multi=multi,
                         weights=tuple(w for _, _, w in opts))
        for oname, inc_c, _w in opts:
            p = Product(next_id, oname, "modifiers", inc_c, (gst,), cost_ratio=0.25, is_modifier=True)
            p.ex_4, p.tax_4 = split_inclusive(inc_c, p.taxes)
            p.code = f"MOD{next_id % 1000:03d}"
            products[p.id] = p
            oset.options.append(p)
            next_id += 1
        option_sets[key] = oset

    all_sites = [s for ids in sites.values() for s in ids]
    for cat_key, rows in prod_defs.items():
        for name, inc_c, venues, sets, popularity in rows:
            if cat_key == "wine":
                ptaxes: tuple[Tax, ...] = (gst, wet)
            elif cat_key == "bread":
                ptaxes = (free,)
            else:
                ptaxes = (gst,)
            alcohol = cat_key in ("beer", "wine", "cocktails", "spirits")
            p = Product(
                next_id, name, cat_key, inc_c, ptaxes,
                cost_ratio=0.22 if cat_key == "coffee" else 0.3 if alcohol else 0.32,
                venues=tuple(v for v in venues if v in sites), option_sets=sets,
                popularity=float(popularity), gst_free=cat_key == "bread",
                tags=("Alcohol",) if alcohol else ("GST free",) if cat_key == "bread" else (),
            )
            p.ex_4, p.tax_4 = split_inclusive(inc_c, ptaxes)
            p.code = f"{cat_key[:3].upper()}{next_id % 1000:03d}"
            p.description = f"{name} — {categories[cat_key][3].lower()}"
            for venue in p.venues:
                for site_id in sites[venue]:
                    premium = GROUP_PREMIUM.get((site_premium_key[site_id], cat_key), 0)
                    site_inc = inc_c + premium
                    ex_4, tax_4 = split_inclusive(site_inc, ptaxes)
                    p.site_prices[site_id] = (site_inc, ex_4, tax_4)
                    by_venue.setdefault(venue, {}).setdefault(cat_key, []).append(p)
            products[p.id] = p
            next_id += 1
    # Modifiers are sold wherever their parent products are.
    for p in products.values():
        if p.is_modifier:
            for site_id in all_sites:
                p.site_prices[site_id] = (p.inc_c, p.ex_4, p.tax_4)
    # by_venue lists products once per site of that kind; keep them unique.
    for cats in by_venue.values():
        for key, plist in cats.items():
            seen: dict[int, Product] = {}
            for p in plist:
                seen.setdefault(p.id, p)
            cats[key] = list(seen.values())
    return Catalogue(taxes, categories, products, option_sets, by_venue)

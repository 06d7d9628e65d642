"""People of the sandbox: staff, customers, and the daily roster (shifts and breaks).

The roster is built before the day's orders, and every order is taken by someone who is on shift
at that site and not on a break: two "core" staff cover each trading period from before opening to
after closing with breaks that never overlap, and "extra" staff cover the busy hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .venues import VenueProfile

__all__ = ["Shift", "build_roster", "FIRST_NAMES", "LAST_NAMES"]

FIRST_NAMES = (
    "Olivia", "Jack", "Charlotte", "Noah", "Amelia", "William", "Isla", "Oliver", "Mia", "Thomas",
    "Ava", "James", "Grace", "Lucas", "Chloe", "Henry", "Zoe", "Leo", "Ruby", "Ethan", "Sophie",
    "Liam", "Matilda", "Harrison", "Ella", "Lachlan", "Sienna", "Cooper", "Harper", "Archie", "Ivy",
    "Mason", "Evie", "Hunter", "Willow", "Riley", "Georgia", "Xavier", "Lily", "Samuel", "Priya",
    "Arjun", "Mei", "Wei", "Sakura", "Hiro", "Aisha", "Omar", "Fatima", "Nikos", "Eleni", "Marco",
    "Giulia", "Connor", "Siobhan", "Tane", "Aroha", "Minh", "Linh", "Carlos",
)
LAST_NAMES = (
    "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin",
    "Anderson", "Thompson", "Nguyen", "Thomas", "Walker", "Harris", "Lee", "Ryan", "Robinson",
    "Kelly", "King", "Davis", "Wright", "Evans", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Patel", "Chen", "Wang", "Singh", "Murphy", "O'Brien", "Papadopoulos", "Rossi",
    "Kowalski", "Tran", "Le", "Kim", "Park", "Sato", "Mitchell", "Campbell", "Stewart", "Morris",
    "Cooper", "Ward", "Hughes", "Edwards", "Baker", "Turner", "Hill", "Scott", "Young", "Allen",
    "Moore", "Price", "Bennett",
)


@dataclass(frozen=True)
class Shift:
    """One shift in wall seconds of its day (``end`` may pass midnight: > 86400)."""

    staff_id: int
    start: int
    end: int
    breaks: tuple[tuple[int, int], ...]

    def available(self, t: float) -> bool:
        if not self.start <= t <= self.end:
            return False
        return all(not b0 <= t <= b1 for b0, b1 in self.breaks)


def build_roster(
    profile: VenueProfile,
    weekday: int,
    expected_orders: float,
    pool: list[int],
    rng: random.Random,
) -> list[Shift]:
    """The shifts of one site-day (empty when the venue is closed)."""
    periods = profile.periods(weekday)
    if not periods:
        return []
    shifts: list[Shift] = []
    span = sum(close - opening for opening, close in periods)
    free = list(pool)
    rng.shuffle(free)
    for open_h, close_h in periods:
        opening, closing = int(open_h * 3600), int(close_h * 3600)  # wall seconds
        length = closing - opening
        share = (closing - opening) / 3600 / span
        for i in range(profile.core_staff):
            if not free:
                break
            start = opening - 1800 - rng.randint(0, 900) if i == 0 else opening - 1200 - rng.randint(0, 600)
            end = closing + 1200 + rng.randint(0, 1200)
            breaks: list[tuple[int, int]] = []
            if end - start > 5.5 * 3600:
                # core breaks sit at different points of the period, so one core is always serving
                at = opening + int(length * (0.3 if i == 0 else 0.62)) + rng.randint(-600, 600)
                breaks.append((at, at + 1500 + rng.randint(0, 600)))
                if i == 0 and end - start > 8 * 3600:
                    at2 = opening + int(length * 0.84) + rng.randint(-300, 300)
                    breaks.append((at2, at2 + 600 + rng.randint(0, 300)))
            shifts.append(Shift(free.pop(), start, end, tuple(breaks)))
        n_extra = round(expected_orders / 100 * profile.extra_staff_per_100 * share)
        for _ in range(n_extra):
            if not free:
                break
            hours = rng.uniform(3.5, 5.0)
            latest = max(opening, closing - int(hours * 3600))
            start = rng.randint(opening - 900, latest)
            end = min(closing + 1800, start + int(hours * 3600))
            shifts.append(Shift(free.pop(), start, end, ()))
    shifts.sort(key=lambda s: (s.start, s.staff_id))
    return shifts

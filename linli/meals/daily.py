"""The day's list of one canteen: who gets which meal, grouped by compound and building,
with counts by diet (what the kitchen cooks) and what was recorded delivered or missed."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from linli.meals.choices import REGULAR, REGULAR_LABEL, Meal
from linli.meals.models import Canteen, MealDelivery, MealEnrolment, diet_labels
from linli.registry.choices import LivingStatus
from linli.registry.models import Building, Compound, Resident


def diet_key(diets: list[str]) -> str:
    """A box type: the diets together ('soft+diabetic'), or regular."""
    return "+".join(diets) if diets else REGULAR


def diet_key_label(key: str) -> str:
    if key == REGULAR:
        return str(REGULAR_LABEL)
    return "+".join(diet_labels(key.split("+")))


@dataclass
class DailyRow:
    enrolment: MealEnrolment
    resident: Resident
    meals: list[str]
    diet_key: str
    # meal → MealDelivery recorded for the day
    outcomes: dict[str, MealDelivery] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.resident.household.address

    @property
    def diet_label(self) -> str:
        return diet_key_label(self.diet_key)

    @property
    def meals_label(self) -> str:
        labels = dict(Meal.choices)
        return "、".join(str(labels[m]) for m in self.meals)

    def outcome(self, meal: str) -> MealDelivery | None:
        return self.outcomes.get(meal)

    @property
    def lunch_outcome(self) -> MealDelivery | None:
        return self.outcomes.get(Meal.LUNCH)

    @property
    def dinner_outcome(self) -> MealDelivery | None:
        return self.outcomes.get(Meal.DINNER)


@dataclass
class CountRow:
    diet_key: str
    lunch: int = 0
    dinner: int = 0

    @property
    def label(self) -> str:
        return diet_key_label(self.diet_key)

    @property
    def total(self) -> int:
        return self.lunch + self.dinner


def _counts(rows: list[DailyRow]) -> list[CountRow]:
    lunch = Counter(r.diet_key for r in rows if Meal.LUNCH in r.meals)
    dinner = Counter(r.diet_key for r in rows if Meal.DINNER in r.meals)
    keys = sorted(set(lunch) | set(dinner), key=lambda k: (k != REGULAR, k))
    return [CountRow(k, lunch[k], dinner[k]) for k in keys]


@dataclass
class Group:
    """The rows of one building or one compound, with their counts."""

    name: str
    rows: list[DailyRow]
    building: Building | None = None
    compound: Compound | None = None

    @property
    def counts(self) -> list[CountRow]:
        return _counts(self.rows)

    @property
    def lunch(self) -> int:
        return sum(1 for r in self.rows if Meal.LUNCH in r.meals)

    @property
    def dinner(self) -> int:
        return sum(1 for r in self.rows if Meal.DINNER in r.meals)

    @property
    def building_or_none(self) -> Building:
        assert self.building is not None  # noqa: S101
        return self.building


@dataclass
class DailyList:
    canteen: Canteen
    day: dt.date
    rows: list[DailyRow]
    # Enrolled, but the register says they no longer live here: not fed, to be ended.
    not_living: list[DailyRow]
    compounds: list[Group]
    buildings: list[Group]

    @property
    def counts(self) -> list[CountRow]:
        return _counts(self.rows)

    @property
    def lunch(self) -> int:
        return sum(1 for r in self.rows if Meal.LUNCH in r.meals)

    @property
    def dinner(self) -> int:
        return sum(1 for r in self.rows if Meal.DINNER in r.meals)

    @property
    def meals(self) -> int:
        return self.lunch + self.dinner

    def recorded(self, status: str) -> int:
        return sum(1 for r in self.rows for d in r.outcomes.values() if d.status == status)

    @property
    def delivered(self) -> int:
        return self.recorded("delivered")

    @property
    def missed(self) -> int:
        return self.recorded("missed")


def running_on(day: dt.date) -> Q:
    return Q(starts_on__lte=day) & (Q(ends_on__isnull=True) | Q(ends_on__gte=day))


def daily_list(canteen: Canteen, day: dt.date) -> DailyList:
    """Within the active scope (a grid worker: their grid's residents only)."""
    enrolments = list(
        MealEnrolment.objects.filter(running_on(day), canteen=canteen)
        .select_related("resident__household__unit__building__compound")
        .order_by(
            "resident__household__unit__building__compound__name",
            "resident__household__unit__building__sort_key",
            "resident__household__unit__building__name",
            "resident__household__unit__sort_key",
            "resident__household__unit__name",
            "resident__household__room_sort_key",
            "resident__household__room",
            "resident_id",
        )
    )
    outcomes: dict[tuple[int, str], MealDelivery] = {
        (d.resident_id, d.meal): d
        for d in MealDelivery._base_manager.filter(
            day=day, enrolment_id__in=[e.pk for e in enrolments]
        )
    }
    rows: list[DailyRow] = []
    not_living: list[DailyRow] = []
    for enrolment in enrolments:
        resident = enrolment.resident
        row = DailyRow(
            enrolment=enrolment,
            resident=resident,
            meals=enrolment.meals,
            diet_key=diet_key(list(enrolment.diets)),
            outcomes={
                m: outcomes[(resident.pk, m)] for m in Meal.values if (resident.pk, m) in outcomes
            },
        )
        if resident.living_status == LivingStatus.LIVING_HERE:
            rows.append(row)
        else:
            not_living.append(row)
    compounds: list[Group] = []
    buildings: list[Group] = []
    for row in rows:
        building = row.resident.household.unit.building
        compound = building.compound
        if not compounds or compounds[-1].compound != compound:
            compounds.append(Group(name=compound.name, rows=[], compound=compound))
        compounds[-1].rows.append(row)
        if not buildings or buildings[-1].building != building:
            buildings.append(Group(name=str(building), rows=[], building=building))
        buildings[-1].rows.append(row)
    return DailyList(
        canteen=canteen,
        day=day,
        rows=rows,
        not_living=not_living,
        compounds=compounds,
        buildings=buildings,
    )


def title(listed: DailyList) -> str:
    return _("%(canteen)s 爱心餐名单 %(day)s") % {
        "canteen": listed.canteen.name,
        "day": listed.day.isoformat(),
    }

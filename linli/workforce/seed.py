"""Demo volunteers, teams and a task board with some history, for each community of a tier.

Called by `linli seed` / `linli demo` after the registry's seeder (WorkforceConfig.seed).
Volume (volunteers, last week's finished tasks) is written with bulk_create; the live
board (open, assigned, accepted, in progress, done today) goes through the real actions,
which validate it and send the messages a household would get. Deterministic: one fixed
random stream per tier; idempotent: a tier whose communities have volunteers is left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.encryption import blind_index
from linli.lib.identity import compose_id_number
from linli.registry import seed as registry_seed
from linli.registry.choices import Sex
from linli.registry.models import Building, Community, Household, Street, UserArea
from linli.workforce import actions
from linli.workforce.choices import (
    Skill,
    StopStatus,
    TaskKind,
    TaskStatus,
    TeamKind,
    VolunteerStatus,
    availability_choices,
)
from linli.workforce.models import Task, TaskEvent, TaskStop, Volunteer

DEMO_VOLUNTEER = "volunteer_1"  # the demo account of registry.seed's _STAFF list
VOLUNTEERS_PER_COMMUNITY = {"community": 20, "estate": 100, "street": 20}
# Finished tasks per past day (a week of history, so the figures show something).
DONE_PER_DAY = {"community": 5, "estate": 16, "street": 3}
HISTORY_DAYS = 7

_WORK_UNITS = (
    "区税务局",
    "区教育局",
    "区人民医院",
    "区城管执法局",
    "街道办事处",
    "市供电局营业所",
    "区人民法院",
    "工商银行支行",
    "区市场监管局",
    "市第三中学",
    "区图书馆",
    "区住建局",
)
_SKILL_WEIGHTS = {
    Skill.HEAVY_LIFTING: 0.55,
    Skill.DRIVER: 0.3,
    Skill.PHONE_HELP: 0.3,
    Skill.MEDICAL: 0.12,
    Skill.TRANSLATION: 0.06,
}
_ITEMS = ("蔬菜包×1", "米面油套餐×1", "肉蛋包×1", "爱心包×1", "药品（已分装）×1", "水果箱×1")
_LOCAL_REGIONS = ("440103", "440104", "440105", "440106", "440111", "430102", "360102")


@contextmanager
def quiet_messages() -> Iterator[None]:
    """The console backend prints every message it sends; a seed sends dozens. They are
    still sent and logged as Message rows, just not printed."""
    logger = logging.getLogger("linli.notify")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def tier_communities(tier: str) -> list[Community]:
    """The communities a tier's registry seed made (none if it has not run)."""
    plan = registry_seed.plan_for(tier)
    street = Street.objects.filter(code=plan.street_code).first()
    if street is None:
        return []
    return list(Community.objects.filter(street=street).order_by("pk"))


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> dict[str, int]:
    """Seed the workforce of a tier's communities unless it has volunteers already."""
    with scopes_disabled():
        communities = tier_communities(tier)
        if not communities:
            return {}
        if Volunteer.objects.filter(community__in=communities).exists():
            if stdout is not None:
                stdout.write(_("志愿者和任务的演示数据已经存在，未重复生成。"))
            return {}
        seeder = WorkforceSeeder(
            tier=tier,
            rng=random.Random(f"linli-workforce-{tier}"),  # noqa: S311 (demo data)
            now=timezone.now(),
            password_hash=make_password(password),  # one hash for all
        )
        with transaction.atomic(), quiet_messages():
            for number, community in enumerate(communities):
                seeder.community(community, demo=number == 0)
    if stdout is not None:
        counts = seeder.counts
        stdout.write(
            _(
                "已生成志愿者 %(volunteers)d 名（已审核 %(verified)d）、队伍 %(teams)d 支、"
                "任务 %(tasks)d 个（其中已完成 %(done)d 个）。"
            )
            % counts
        )
    return seeder.counts


@dataclass
class WorkforceSeeder:
    tier: str
    rng: random.Random
    now: dt.datetime
    password_hash: str
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("volunteers", "verified", "teams", "tasks", "done"), 0
        )
    )

    def __post_init__(self) -> None:
        self.maker = registry_seed.PeopleMaker(self.rng, timezone.localdate(self.now))
        self.staff = User.objects.filter(username="community_staff").first()
        with scopes_disabled():
            self.taken_ids = set(Volunteer.objects.values_list("id_number_index", flat=True))
            self.taken_phones = set(Volunteer.objects.values_list("phone_index", flat=True))

    def community(self, community: Community, *, demo: bool) -> None:
        buildings = list(
            Building.objects.filter(compound__community=community)
            .select_related("compound")
            .order_by("compound_id", "sort_key", "pk")
        )
        volunteers = self.volunteers(community, buildings, demo=demo)
        verified = [v for v in volunteers if v.status == VolunteerStatus.VERIFIED]
        self.teams(community, verified, buildings)
        self.history(community, verified, buildings)
        self.board(community, verified, buildings, demo=demo)

    # Volunteers ------------------------------------------------------------------------

    def volunteers(
        self, community: Community, buildings: list[Building], *, demo: bool
    ) -> list[Volunteer]:
        count = VOLUNTEERS_PER_COMMUNITY[self.tier]
        statuses = [VolunteerStatus.VERIFIED] * count
        pending = max(2, count // 8)
        statuses[-pending - 1 : -1] = [VolunteerStatus.PENDING] * pending
        statuses[-1] = VolunteerStatus.REJECTED
        users: list[User] = []
        volunteers: list[Volunteer] = []
        for n, status in enumerate(statuses, start=1):
            sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
            person = self.maker.person("volunteer", "head", sex, self.maker.age(19, 64, 35))
            user = User(
                username=f"vol-{community.code}-{n:03d}",
                password=self.password_hash,
                role=Role.VOLUNTEER,
                display_name=person.name,
                is_active=status == VolunteerStatus.VERIFIED,
            )
            users.append(user)
            volunteers.append(self.volunteer(community, user, person, status, buildings))
        demo_user = User.objects.filter(username=DEMO_VOLUNTEER, role=Role.VOLUNTEER).first()
        if demo and demo_user is not None and not hasattr(demo_user, "volunteer"):
            person = self.maker.person("volunteer", "head", Sex.MALE, 34)
            person.name = demo_user.display_name or person.name
            volunteer = self.volunteer(
                community, demo_user, person, VolunteerStatus.VERIFIED, buildings
            )
            volunteer.skills = [Skill.DRIVER, Skill.HEAVY_LIFTING]
            volunteer.is_party_member = True
            volunteer.work_unit = "区教育局"
            volunteer.last_negative_test_at = self.now - dt.timedelta(hours=20)
            volunteers.insert(0, volunteer)
        User.objects.bulk_create(users)
        Volunteer.objects.bulk_create(volunteers)
        # Reviewed volunteers have their community as their area (see volunteer_review).
        UserArea.objects.filter(user__in=[v.user for v in volunteers]).delete()
        UserArea.objects.bulk_create(
            UserArea(user=v.user, community=community)
            for v in volunteers
            if v.status != VolunteerStatus.PENDING
        )
        verified = sum(1 for v in volunteers if v.status == VolunteerStatus.VERIFIED)
        self.counts["volunteers"] += len(volunteers)
        self.counts["verified"] += verified
        return volunteers

    def volunteer(
        self,
        community: Community,
        user: User,
        person: registry_seed.Person,
        status: str,
        buildings: list[Building],
    ) -> Volunteer:
        rng = self.rng
        building = rng.choice(buildings) if buildings else None
        skills = sorted(s for s, share in _SKILL_WEIGHTS.items() if rng.random() < share)
        slots = [code for code, _label in availability_choices()]
        days = rng.sample(range(7), rng.randint(2, 6))
        day_slots = rng.sample(("am", "pm", "eve"), rng.randint(1, 2))
        party = rng.random() < 0.4
        # Most took a test yesterday or today; a few are older than the usual 48 hours.
        hours_ago = rng.choice((3, 8, 20, 26, 30, 40)) if rng.random() < 0.85 else 80
        tested = self.now - dt.timedelta(hours=hours_ago, minutes=rng.randrange(60))
        created = self.now - dt.timedelta(days=rng.randint(8, 20), minutes=rng.randrange(600))
        pending = status == VolunteerStatus.PENDING
        volunteer = Volunteer(
            community=community,
            user=user,
            name=person.name,
            compound=building.compound if building else None,
            building=building,
            skills=skills,
            availability=[s for s in slots if int(s[0]) - 1 in days and s[2:] in day_slots],
            is_party_member=party,
            work_unit=rng.choice(_WORK_UNITS) if party else "",
            last_negative_test_at=tested,
            status=status,
            status_reason=_("身份信息与报名信息不符") if status == VolunteerStatus.REJECTED else "",
            reviewed_at=None if pending else created + dt.timedelta(hours=5),
            reviewed_by=None if pending else self.staff,
            created_at=created,
        )
        volunteer.set_personal_numbers(id_number=self.id_number(person), phone=self.phone())
        return volunteer

    def id_number(self, person: registry_seed.Person) -> str:
        sequence = self.rng.randrange(0, 1000, 2) + (1 if person.sex == Sex.MALE else 0)
        region = self.rng.choice(_LOCAL_REGIONS)
        while True:
            number = compose_id_number(region, person.birth, sequence)
            index = blind_index(number, purpose="volunteer_id_number")
            if index not in self.taken_ids:
                self.taken_ids.add(index)
                return number
            sequence = (sequence + 2) % 1000

    def phone(self) -> str:
        while True:
            number = self.maker.mobile()
            index = blind_index(number, purpose="volunteer_phone")
            if index not in self.taken_phones:
                self.taken_phones.add(index)
                return number

    # Teams -----------------------------------------------------------------------------

    def teams(
        self, community: Community, verified: list[Volunteer], buildings: list[Building]
    ) -> None:
        party = [v for v in verified if v.is_party_member]
        others = [v for v in verified if not v.is_party_member]
        demo = [v for v in verified if v.user.username == DEMO_VOLUNTEER]
        branch_members = party[:15]
        actions.team_save(
            actor=self.staff or verified[0].user,
            community=community,
            name=_("第一临时党支部"),
            kind=TeamKind.PARTY_BRANCH,
            leader=branch_members[0].user if branch_members else None,
            members=[v.user for v in branch_members],
        )
        service_members = [*demo, *others[:15]]
        actions.team_save(
            actor=self.staff or verified[0].user,
            community=community,
            name=_("青年志愿服务队"),
            kind=TeamKind.SERVICE_TEAM,
            leader=service_members[0].user if service_members else None,
            members=[v.user for v in service_members],
            buildings=buildings[:10],
        )
        self.counts["teams"] += 2

    # Last week's finished work (bulk) -----------------------------------------------------

    def history(
        self, community: Community, verified: list[Volunteer], buildings: list[Building]
    ) -> None:
        if not verified or not buildings:
            return
        rng = self.rng
        kinds = (
            (TaskKind.DELIVERY_BUNDLE, 6),
            (TaskKind.DUTY_SHIFT, 3),
            (TaskKind.BUILDING_SWEEP, 2),
            (TaskKind.ERRAND, 1),
        )
        today = timezone.localdate(self.now)
        demo = next((v for v in verified if v.user.username == DEMO_VOLUNTEER), None)
        plans: list[tuple[Task, Building, list[Household]]] = []
        for days_ago in range(HISTORY_DAYS, 0, -1):
            day = today - dt.timedelta(days=days_ago)
            for n in range(DONE_PER_DAY[self.tier]):
                kind = rng.choices([k for k, _w in kinds], weights=[w for _k, w in kinds])[0]
                # The demo volunteer did one a day, so their own hours page shows some.
                volunteer = demo if demo is not None and n == 0 else rng.choice(verified)
                building = rng.choice(buildings)
                start = timezone.make_aware(
                    dt.datetime.combine(day, dt.time(rng.randint(8, 18), rng.choice((0, 30))))
                )
                minutes = rng.choice((30, 45, 60, 60, 90, 120, 180))
                title = {
                    TaskKind.DELIVERY_BUNDLE: _("%(b)s 物资送货上门") % {"b": building},
                    TaskKind.DUTY_SHIFT: _("%(c)s 卡口值守") % {"c": building.compound.name},
                    TaskKind.BUILDING_SWEEP: _("%(b)s 扫楼（核酸未检人员）") % {"b": building},
                    TaskKind.ERRAND: _("代购常用药品"),
                }[kind]
                task = Task(
                    community=community,
                    kind=kind,
                    title=title,
                    place=str(building),
                    status=TaskStatus.DONE,
                    volunteer=volunteer,
                    size=1,
                    created_at=start - dt.timedelta(hours=2),
                    created_by=self.staff,
                    assigned_at=start - dt.timedelta(hours=1),
                    accepted_at=start - dt.timedelta(minutes=50),
                    started_at=start,
                    finished_at=start + dt.timedelta(minutes=minutes),
                    minutes=minutes,
                    proof_note=_("已完成"),
                )
                plans.append((task, building, []))
        self.households_for(plans)
        Task.objects.bulk_create([task for task, _b, _h in plans])
        Task.buildings.through.objects.bulk_create(
            Task.buildings.through(task=task, building=building) for task, building, _h in plans
        )
        stops: list[TaskStop] = []
        events: list[TaskEvent] = []
        for task, _building, households in plans:
            assert task.volunteer is not None  # noqa: S101
            for position, household in enumerate(households):
                left = rng.random() < 0.3
                stops.append(
                    TaskStop(
                        task=task,
                        household=household,
                        address=household.address,
                        items=rng.choice(_ITEMS),
                        door_code=f"{rng.randrange(10_000):04d}",
                        status=StopStatus.LEFT_AT_DOOR if left else StopStatus.DELIVERED,
                        proof="" if left else "code",
                        done_at=task.finished_at,
                        done_by=task.volunteer.user,
                        position=position,
                    )
                )
            events += [
                TaskEvent(
                    task=task, at=task.created_at, actor=self.staff, to_status=TaskStatus.OPEN
                ),
                TaskEvent(
                    task=task,
                    at=task.accepted_at or task.created_at,
                    actor=task.volunteer.user,
                    from_status=TaskStatus.OPEN,
                    to_status=TaskStatus.ACCEPTED,
                    note=_("志愿者领取"),
                ),
                TaskEvent(
                    task=task,
                    at=task.finished_at or task.created_at,
                    actor=task.volunteer.user,
                    from_status=TaskStatus.IN_PROGRESS,
                    to_status=TaskStatus.DONE,
                ),
            ]
        TaskStop.objects.bulk_create(stops, batch_size=1000)
        TaskEvent.objects.bulk_create(events, batch_size=1000)
        self.counts["tasks"] += len(plans)
        self.counts["done"] += len(plans)

    def households_for(self, plans: list[tuple[Task, Building, list[Household]]]) -> None:
        """A delivery's doors: up to 8 households of its building, in one query."""
        wanted = {b.pk for task, b, _h in plans if task.kind == TaskKind.DELIVERY_BUNDLE}
        by_building: dict[int, list[Household]] = {}
        for household in (
            Household.objects.filter(unit__building_id__in=wanted)
            .order_by("unit__sort_key", "room_sort_key", "pk")
            .select_related("unit")
        ):
            by_building.setdefault(household.unit.building_id, []).append(household)
        for task, building, households in plans:
            if task.kind == TaskKind.DELIVERY_BUNDLE:
                doors = by_building.get(building.pk, [])
                households += self.rng.sample(doors, min(len(doors), self.rng.randint(4, 8)))
                task.size = max(1, len(households))

    # Today's board (through the actions) ---------------------------------------------------

    def board(
        self,
        community: Community,
        verified: list[Volunteer],
        buildings: list[Building],
        *,
        demo: bool,
    ) -> None:
        rng = self.rng
        staff = self.staff
        if staff is None or not verified or not buildings:
            return
        demo_volunteer = next((v for v in verified if v.user.username == DEMO_VOLUNTEER), None)
        helpers = [v for v in verified if v is not demo_volunteer]
        bundles = 10 if self.tier == "estate" else 5
        chosen = rng.sample(buildings, min(len(buildings), bundles))
        doors = self.doors(chosen)
        tasks: list[Task] = []
        for building in chosen:
            households = doors.get(building.pk, [])
            if not households:
                continue
            task = actions.task_create(
                actor=staff,
                community=community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title=_("%(b)s 保供物资送货上门") % {"b": building},
                description=_("从卡口取货，送到各户门口，收货码或拍照为凭。"),
                buildings=[building],
                stops=[
                    actions.StopInput(household=h, items=rng.choice(_ITEMS)) for h in households
                ],
            )
            stops = list(task.stops.all())
            for stop in stops:  # the codes households hold, from the seed's stream too
                stop.door_code = f"{rng.randrange(10_000):04d}"
            TaskStop.objects.bulk_update(stops, ["door_code"])
            tasks.append(task)
        starts = timezone.make_aware(dt.datetime.combine(timezone.localdate(self.now), dt.time(15)))
        errand = actions.task_create(
            actor=staff,
            community=community,
            kind=TaskKind.ERRAND,
            title=_("为独居老人代购降压药"),
            description=_("到社区卫生服务中心取药后送到楼下，需开车。"),
            buildings=buildings[:1],
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            required_skills=[Skill.DRIVER],
        )
        sweep = actions.task_create(
            actor=staff,
            community=community,
            kind=TaskKind.BUILDING_SWEEP,
            title=_("%(b)s 扫楼：通知明早核酸") % {"b": buildings[-1]},
            buildings=buildings[-1:],
            starts_at=starts + dt.timedelta(hours=3),
            ends_at=starts + dt.timedelta(hours=4),
        )
        self.counts["tasks"] += len(tasks) + 2
        del errand, sweep  # open on the board
        # Of the deliveries: some stay open; one is assigned and waits; one accepted; one
        # on its way with a door done; one or two done today.
        plan = ["open"] * len(tasks)
        for index, state in enumerate(("done", "in_progress", "accepted", "assigned", "done")):
            if index < len(plan) - 1:
                plan[index] = state
        for task, state in zip(tasks, plan, strict=True):
            if state == "open":
                continue
            volunteer = rng.choice(helpers) if helpers else demo_volunteer
            if demo and demo_volunteer is not None and state in ("accepted", "in_progress"):
                volunteer = demo_volunteer
            assert volunteer is not None  # noqa: S101
            task = actions.task_assign(actor=staff, task=task, volunteer=volunteer)
            if state == "assigned":
                continue
            task = actions.task_accept(actor=volunteer.user, task=task)
            if state == "accepted":
                continue
            task = actions.task_start(actor=volunteer.user, task=task)
            stops = list(task.stops.all())
            if state == "in_progress":
                actions.stop_deliver(actor=volunteer.user, stop=stops[0], code=stops[0].door_code)
                if len(stops) > 2:
                    actions.stop_left_at_door(actor=volunteer.user, stop=stops[1])
                continue
            for stop in stops[:-1]:
                actions.stop_deliver(actor=volunteer.user, stop=stop, code=stop.door_code)
            actions.stop_left_at_door(actor=volunteer.user, stop=stops[-1])
            task.refresh_from_db()
            actions.task_set_minutes(actor=staff, task=task, minutes=rng.choice((45, 60, 75, 90)))
            self.counts["done"] += 1

    def doors(self, buildings: list[Building]) -> dict[int, list[Household]]:
        """Up to 8 households of each building's first unit, in one query."""
        found: dict[int, list[Household]] = {}
        households = (
            Household.objects.filter(unit__building__in=buildings)
            .select_related("unit__building")
            .order_by("unit__sort_key", "room_sort_key", "pk")
        )
        for household in households:
            mine = found.setdefault(household.unit.building_id, [])
            if len(mine) < 8 and (not mine or mine[0].unit_id == household.unit_id):
                mine.append(household)
        return found

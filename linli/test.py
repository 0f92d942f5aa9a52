"""The base test case: one small world built through the real actions, with named personas.

Street 和平街道 has 阳光社区 (grids 1 and 2, and a building in no grid) and 星河社区.
alice works grid 1, bob grid 2; carol is 阳光社区's staff, olivia its hotline operator;
dave runs the street; kate keeps a checkpoint; victor volunteers; sam supplies; rita is a
resident of 1号楼; oscar has an account and no role. A second street (东风街道) holds
a community none of them may see.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zlib

from django.test import TestCase
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.identity import compose_id_number
from linli.registry import actions
from linli.registry.choices import CareTag
from linli.registry.models import (
    Building,
    Community,
    Compound,
    Grid,
    Household,
    Resident,
    Street,
    Unit,
    UserArea,
)

PASSWORD = "correct horse battery"


def pdf_text(pdf: bytes) -> str:
    """The text WeasyPrint drew: glyph codes in the page streams read through the fonts'
    ToUnicode maps. A character without a font that has it would be missing here."""
    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    glyphs: dict[bytes, str] = {}
    for stream in streams:
        for block in re.findall(rb"beginbfchar\s*(.*?)\s*endbfchar", stream, re.S):
            for code, uni in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                glyphs[code.lower()] = bytes.fromhex(uni.decode()).decode("utf-16-be")
    text: list[str] = []
    for stream in streams:
        if b"BT" in stream and b"begincmap" not in stream:
            for run in re.findall(rb"<([0-9a-fA-F]+)>", stream):
                text.extend(glyphs.get(run[i : i + 4].lower(), "") for i in range(0, len(run), 4))
    return "".join(text)


def make_user(username: str, role: str, **area: object) -> User:
    user = User.objects.create_user(username, password=PASSWORD, role=role, display_name=username)
    if area:
        UserArea.objects.create(user=user, **area)
    return user


def make_place(community: Community, compound: str, building: str, unit: str) -> Unit:
    comp, _ = Compound.objects.get_or_create(community=community, name=compound)
    bldg, _ = Building.objects.get_or_create(compound=comp, name=building)
    unit_obj, _ = Unit.objects.get_or_create(building=bldg, name=unit)
    return unit_obj


# Unique ID numbers for test residents: 900 sequence codes per region code, then the next
# region (a test process makes thousands: a campaign's building alone has 332 residents).
_sequence = itertools.count()


def next_id_number(born: dt.date) -> str:
    n = next(_sequence)
    return compose_id_number(str(110101 + n // 900), born, 100 + n % 900)


def make_resident(
    unit: Unit, room: str, name: str, *, phone: str = "", born: dt.date | None = None
) -> Resident:
    actor = User.objects.filter(is_superuser=True).first()
    household = Household.objects.filter(unit=unit, room=room).first()
    if household is None:
        household = actions.household_create(actor=actor, unit=unit, room=room)
    born = born or dt.date(1950, 3, 7)
    return actions.resident_create(
        actor=actor,
        household=household,
        values={
            "name": name,
            "id_number": next_id_number(born),
            "phone": phone,
        },
    )


class BaseTestCase(TestCase):
    """Personas and places every test can use; see the module docstring."""

    root: User
    alice: User
    bob: User
    carol: User
    olivia: User
    dave: User
    kate: User
    victor: User
    sam: User
    oscar: User
    rita_user: User
    street: Street
    community: Community
    community_b: Community
    community_far: Community
    grid1: Grid
    grid2: Grid
    unit1: Unit
    unit2: Unit
    unit_nogrid: Unit
    unit_b: Unit
    unit_far: Unit
    zhang: Resident
    zeng: Resident
    li: Resident
    wang: Resident
    zhao: Resident
    far: Resident
    grid1_residents: set[int]

    @classmethod
    def setUpTestData(cls) -> None:
        with scopes_disabled():
            cls.build_world()

    @classmethod
    def build_world(cls) -> None:
        cls.root = User.objects.create_superuser("root", password=PASSWORD)
        cls.street = Street.objects.create(name="和平街道", code="heping")
        cls.community = Community.objects.create(
            street=cls.street, name="阳光社区", code="yangguang"
        )
        cls.community_b = Community.objects.create(
            street=cls.street, name="星河社区", code="xinghe"
        )
        other_street = Street.objects.create(name="东风街道", code="dongfeng")
        cls.community_far = Community.objects.create(
            street=other_street, name="远方社区", code="yuanfang"
        )

        cls.grid1 = Grid.objects.create(community=cls.community, name="第一网格", code="g1")
        cls.grid2 = Grid.objects.create(community=cls.community, name="第二网格", code="g2")
        cls.unit1 = make_place(cls.community, "阳光小区", "1号楼", "1单元")
        cls.unit2 = make_place(cls.community, "阳光小区", "2号楼", "1单元")
        cls.unit_nogrid = make_place(cls.community, "阳光小区", "3号楼", "1单元")
        cls.unit_b = make_place(cls.community_b, "星河湾", "1号楼", "1单元")
        cls.unit_far = make_place(cls.community_far, "远方家园", "1号楼", "1单元")
        actions.grid_cover(actor=cls.root, grid=cls.grid1, buildings=[cls.unit1.building])
        actions.grid_cover(actor=cls.root, grid=cls.grid2, buildings=[cls.unit2.building])

        cls.alice = make_user("alice", Role.GRID_WORKER, community=cls.community)
        cls.bob = make_user("bob", Role.GRID_WORKER, community=cls.community)
        cls.grid1.workers.add(cls.alice)
        cls.grid2.workers.add(cls.bob)
        cls.carol = make_user("carol", Role.COMMUNITY_STAFF, community=cls.community)
        cls.olivia = make_user("olivia", Role.HOTLINE_OPERATOR, community=cls.community)
        cls.dave = make_user("dave", Role.STREET_ADMIN, street=cls.street)
        cls.kate = make_user("kate", Role.CHECKPOINT_KEEPER, community=cls.community)
        cls.victor = make_user("victor", Role.VOLUNTEER)
        cls.sam = make_user("sam", Role.SUPPLIER)
        cls.oscar = make_user("oscar", "")

        cls.zhang = make_resident(cls.unit1, "101", "张建国", phone="13812348000")
        cls.zeng = make_resident(cls.unit1, "102", "曾小明", phone="13912341234")
        cls.li = make_resident(cls.unit2, "201", "李秀英", phone="13712345678")
        cls.wang = make_resident(cls.unit_nogrid, "301", "王芳", phone="13612349999")
        cls.zhao = make_resident(cls.unit_b, "101", "赵磊", phone="13512340000")
        cls.far = make_resident(cls.unit_far, "101", "钱多多", phone="13412347777")
        actions.care_profile_save(
            actor=cls.root,
            resident=cls.zhang,
            care=actions.CareInput(tags=[CareTag.LIVES_ALONE], conditions="高血压"),
        )
        cls.rita_user = make_user("rita", Role.RESIDENT)
        cls.zeng.user = cls.rita_user
        cls.zeng.save(update_fields=["user"])

        cls.grid1_residents = {cls.zhang.pk, cls.zeng.pk}

    def login(self, user: User) -> None:
        self.client.force_login(user)

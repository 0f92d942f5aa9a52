"""The demo seeder: a realistic, deterministic neighbourhood at one of DESIGN.md's scale tiers.

Everything is written with bulk_create in one transaction, with the derived fields
(household place, blind indexes, pinyin keys) computed in Python first, so the estate
tier (40,000 residents) takes seconds rather than the minutes that one action call per
row would. bulk_create sends no signals, so django-auditlog records no history for
seeded rows: nobody changed them, and their history starts with the first real edit.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import OutputWrapper
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.encryption import blind_index
from linli.lib.identity import compose_id_number
from linli.registry.choices import CareTag, LivingStatus, Relation, Sex
from linli.registry.models import (
    Building,
    CareProfile,
    CareTagAssignment,
    Community,
    Compound,
    EmergencyContact,
    Gate,
    Grid,
    Household,
    Resident,
    Street,
    Unit,
    UserArea,
    sort_key,
)

DEFAULT_PASSWORD = "linli-demo"  # noqa: S105 (the documented demo password)


def _words(text: str) -> list[str]:
    return text.split()


# --------------------------------------------------------------------------------------
# The shape of each tier
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompoundPlan:
    name: str
    buildings: int
    floors: tuple[int, int]
    units: tuple[int, int]
    rooms_per_floor: tuple[int, int]
    gates: tuple[str, ...]


@dataclass(frozen=True)
class CommunityPlan:
    name: str
    code: str
    households: int
    grids: int
    compounds: tuple[CompoundPlan, ...]

    def scaled(self, households: int) -> CommunityPlan:
        """The same community with fewer households and buildings (for tests)."""
        factor = households / self.households
        compounds = tuple(
            replace(c, buildings=max(2, math.ceil(c.buildings * factor))) for c in self.compounds
        )
        return replace(self, households=households, compounds=compounds)


@dataclass(frozen=True)
class TierPlan:
    name: str
    street_name: str
    street_code: str
    communities: tuple[CommunityPlan, ...]
    household_mix: str = "city"  # a key of HOUSEHOLD_MIXES


def _old_town(name: str, code: str, households: int, prefix: str) -> CommunityPlan:
    """An old-town community: walk-ups from the 1980s, a 1990s estate and a few towers."""
    return CommunityPlan(
        name=name,
        code=code,
        households=households,
        grids=6,
        compounds=(
            CompoundPlan(f"{prefix}里", 18, (6, 7), (2, 4), (2, 3), ("东门", "南门")),
            CompoundPlan(f"{prefix}新村", 14, (7, 9), (3, 3), (2, 3), ("北门",)),
            CompoundPlan(f"{prefix}花园", 8, (11, 18), (2, 2), (4, 4), ("正门", "西门")),
        ),
    )


_STREET_COMMUNITIES = (
    ("东湖社区", "donghu", "东湖"),
    ("南塘社区", "nantang", "南塘"),
    ("西岭社区", "xiling", "西岭"),
    ("北门社区", "beimen", "北门"),
    ("青石社区", "qingshi", "青石"),
    ("柳巷社区", "liuxiang", "柳巷"),
    ("桂花社区", "guihua", "桂花"),
    ("榕树社区", "rongshu", "榕树"),
    ("金沙社区", "jinsha", "金沙"),
    ("白鹭社区", "bailu", "白鹭"),
)

TIERS: dict[str, TierPlan] = {
    "community": TierPlan(
        name="community",
        street_name="翠屏街道",
        street_code="cuiping",
        communities=(_old_town("梧桐社区", "wutong", 2265, "梧桐"),),
        household_mix="old_town",
    ),
    "estate": TierPlan(
        name="estate",
        street_name="北苑街道",
        street_code="beiyuan",
        communities=(
            CommunityPlan(
                name="和谐家园社区",
                code="hexie",
                households=14000,
                grids=24,
                compounds=(
                    CompoundPlan(
                        "和谐家园",
                        286,
                        (6, 18),
                        (2, 3),
                        (2, 2),
                        # 17 gates, merged into 8 checkpoints by the checkpoints seeder.
                        tuple(
                            _words(
                                "东一门 东二门 东三门 南一门 南二门 南三门 西一门 西二门 西三门 "
                                "北一门 北二门 北三门 东北角门 西南角门 地库一号口 地库二号口 "
                                "消防通道口"
                            )
                        ),
                    ),
                ),
            ),
        ),
    ),
    "street": TierPlan(
        name="street",
        street_name="东湖街道",
        street_code="donghu-street",
        communities=tuple(
            replace(
                _old_town(name, code, 3500, prefix),
                compounds=(
                    CompoundPlan(f"{prefix}里", 25, (6, 7), (3, 3), (2, 3), ("东门", "南门")),
                    CompoundPlan(f"{prefix}新村", 20, (7, 9), (3, 3), (3, 3), ("北门",)),
                    CompoundPlan(f"{prefix}花园", 12, (11, 18), (2, 2), (4, 4), ("正门", "西门")),
                ),
            )
            for name, code, prefix in _STREET_COMMUNITIES
        ),
    ),
}


def plan_for(tier: str, households: int | None = None) -> TierPlan:
    """The plan of a tier, or a scaled-down copy with `households` per community (for tests)."""
    try:
        plan = TIERS[tier]
    except KeyError:
        raise ValueError(_("未知的规模档：%(tier)s") % {"tier": tier}) from None
    if households is not None:
        plan = replace(plan, communities=tuple(c.scaled(households) for c in plan.communities))
    return plan


# --------------------------------------------------------------------------------------
# Names, numbers and vocabularies
# --------------------------------------------------------------------------------------

# Surnames with a rough frequency per 10,000 (national figures, Cantonese names a little
# more common); the rare ones with several readings (曾 单 区 仇 解 查 覃 翟) are here so
# that pinyin search meets them.
_SURNAME_TABLE = """
王710 李700 张670 刘540 陈500 杨310 黄300 赵240 吴200 周200 徐150 孙150 马140 朱130
胡130 郭120 何120 林110 高100 罗100 郑90 梁90 谢80 宋70 唐70 许70 韩60 冯60 邓60
曹60 彭60 曾60 肖50 田50 董50 袁50 潘50 于50 蒋50 蔡50 余50 杜40 叶40 程40 苏40
魏40 吕40 丁40 任40 沈30 姚30 卢30 姜30 崔30 钟30 谭30 陆30 汪30 范30 金30 石30
廖30 贾30 夏30 韦30 付30 方20 白20 邹20 孟20 熊20 秦20 邱20 江20 尹20 薛20 闫20
段20 雷20 侯20 龙20 史20 陶20 黎20 贺20 顾20 毛20 郝20 龚20 邵20 万20 钱20 严20
覃8 武20 戴20 莫20 孔10 向10 汤10 欧阳5 司徒3 单6 区4 仇3 解3 查2 翟5 缪3
"""


def _parse_surnames(table: str) -> tuple[list[str], list[int]]:
    names: list[str] = []
    weights: list[int] = []
    for entry in table.split():
        digits = next(i for i, ch in enumerate(entry) if ch.isdigit())
        names.append(entry[:digits])
        weights.append(int(entry[digits:]))
    return names, weights


SURNAMES, _SURNAME_WEIGHTS = _parse_surnames(_SURNAME_TABLE)


# Given names by the era they were fashionable in, for men and women.
_GIVEN_NAMES: dict[tuple[str, str], list[str]] = {
    ("old", Sex.MALE): _words(
        "建国 国庆 建华 志强 德明 振华 福生 永康 家明 炳坤 锦华 国华 桂林 文彬 树森 "
        "德胜 荣 根 福 明 华 强 兴 耀祖 启明 汉 金生 水生 志明 国强 卫国 建军 援朝 "
        "胜利 德华 绍基 耀华"
    ),
    ("old", Sex.FEMALE): _words(
        "秀英 桂英 玉兰 秀珍 淑珍 凤英 桂兰 兰英 秀兰 美华 玉梅 翠花 玉珍 丽华 桂芳 "
        "素珍 月娥 惠珍 秀芳 淑贞 凤珍 瑞英 爱华 桂珍 冬梅 红英 秀云 金凤 佩玲 丽芳 "
        "琼 芳 英 兰 珍 梅"
    ),
    ("middle", Sex.MALE): _words(
        "伟 勇 军 强 磊 涛 斌 超 明 刚 平 辉 鹏 华 飞 建华 海峰 志刚 晓东 志伟 国栋 "
        "立新 卫东 宏伟 振宇 文杰 俊 波 峰 健 新 宁"
    ),
    ("middle", Sex.FEMALE): _words(
        "丽 敏 静 燕 艳 娟 霞 芳 红 玲 红梅 丽娟 晓燕 慧 婷 雪梅 海燕 丽萍 秀梅 美玲 "
        "小红 春燕 晓红 文静 颖 琳 莉 萍 洁"
    ),
    ("young", Sex.MALE): _words(
        "浩 宇 杰 鑫 俊杰 子豪 浩然 宇航 嘉豪 志豪 家乐 俊宇 文轩 晨 阳 凯 帅 博 健华 伟杰 嘉俊"
    ),
    ("young", Sex.FEMALE): _words(
        "婷婷 欣怡 雨欣 佳怡 思琪 梦瑶 雪 静怡 晓雯 嘉欣 慧敏 佩珊 颖琪 诗琪 丹 倩 悦 璐 晶"
    ),
    ("child", Sex.MALE): _words(
        "梓轩 浩宇 宇轩 沐宸 奕辰 梓豪 俊熙 一诺 子墨 浩轩 宇泽 睿 博文 皓轩 锦程 铭"
    ),
    ("child", Sex.FEMALE): _words(
        "梓涵 欣妍 一诺 语桐 可馨 诗涵 若汐 子萱 梓萱 雨桐 欣怡 依诺 芷晴 语嫣 思彤"
    ),
}


def _era(year: int) -> str:
    if year < 1960:
        return "old"
    if year < 1985:
        return "middle"
    if year < 2005:
        return "young"
    return "child"


# Foreign residents: (nationality code for the permanent residence card, names m/f).
_FOREIGNERS = (
    ("410", ("金敏俊", "朴志勋"), ("朴智恩", "李秀贤")),
    ("392", ("山田太郎", "佐藤健"), ("佐藤花子", "铃木美咲")),
    ("840", ("约翰·史密斯", "迈克尔·布朗"), ("艾米丽·琼斯", "莎拉·戴维斯")),
    ("704", ("阮文雄", "陈文明"), ("阮氏梅", "黎氏兰")),
)

# ID region codes with the first year python-stdnum's table has them in use: a resident
# born before that year gets a warning from check_id_number, so the seeder picks, by
# birth year, codes that pass (local codes from 1983, older national ones before that).
_LOCAL_REGIONS = (
    ("440103", 1983),
    ("440104", 1983),
    ("440105", 1983),
    ("440106", 1985),
    ("440111", 1987),
    ("440112", 1983),
    ("440306", 1992),
    ("440307", 1992),
)
_MIGRANT_REGIONS = ("430102", "360102", "450103", "420102", "350102", "410102", "320102")
_EARLY_REGIONS = _words(
    "110101 110102 110105 120101 120103 310101 310104 310106 350121 360121 430121 430321 510121"
)
# Real IDs of older residents carry codes that did not exist when they were born, or no
# longer exist (440102 东山区, merged in 2005): these must pass with a warning.
_RETIRED_REGIONS = ("440307", "440102")

_MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
)

_CONDITIONS: dict[str, list[str]] = {
    "elderly": [
        "高血压",
        "糖尿病",
        "冠心病，常备硝酸甘油",
        "慢阻肺",
        "骨质疏松，曾髋部骨折",
        "阿尔茨海默病早期",
        "白内障术后",
        "关节炎，上下楼困难",
    ],
    CareTag.DISABLED: [
        "肢体残疾二级，使用轮椅",
        "视力残疾一级",
        "听力残疾三级，需当面沟通",
        "智力残疾二级",
    ],
    CareTag.DIALYSIS: [
        "尿毒症，每周一三五血液透析",
        "尿毒症，每周二四六血液透析",
    ],
    CareTag.SERIOUS_ILLNESS: [
        "肺癌术后化疗中",
        "脑梗后遗症，行动不便",
        "帕金森病",
        "心衰，需长期吸氧",
        "乳腺癌放疗中",
    ],
    CareTag.PREGNANT: ["孕期定期产检", "妊娠期糖尿病，孕晚期", "高龄初产，需定期产检"],
    CareTag.INFANT: ["按时接种疫苗", "早产儿，需定期体检", "牛奶蛋白过敏，需特殊奶粉"],
}
_HOBBIES = _words(
    "下象棋 广场舞 养花 听粤剧 书法 打太极 钓鱼 种菜 唱歌 看报 散步 打麻将 织毛衣 摄影 喝早茶"
)


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 24 → 二十四 (up to 99): for grid names."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if tens == 0:
        return digits[ones]
    return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")


# --------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------

_ACTIVE = (LivingStatus.LIVING_HERE, LivingStatus.AWAY, LivingStatus.IN_HOSPITAL)


@dataclass
class Person:
    """A resident before it becomes a row, with what the register pools need to know."""

    name: str
    sex: str
    birth: dt.date
    relation: str
    age: int
    kind: str
    surname: str = ""
    phone: str = ""
    foreign: str = ""  # nationality code
    status: str = LivingStatus.LIVING_HERE
    expecting: bool = False


@dataclass
class PeopleMaker:
    """Makes people and households from one random stream (so a seed gives the same town)."""

    rng: random.Random
    today: dt.date
    phones: set[str] = field(default_factory=set)

    def age(self, low: float, high: float, mode: float | None = None) -> int:
        return int(self.rng.triangular(low, high, low if mode is None else mode))

    def person(
        self,
        kind: str,
        relation: str,
        sex: str,
        age: int,
        *,
        surname: str | None = None,
    ) -> Person:
        age = max(0, min(age, 100))
        birth = self.today - dt.timedelta(days=age * 365 + age // 4 + self.rng.randrange(365))
        surname = surname or self.rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]
        given = self.rng.choice(_GIVEN_NAMES[(_era(birth.year), sex)])
        return Person(
            name=surname + given,
            surname=surname,
            sex=sex,
            birth=birth,
            relation=relation,
            age=age,
            kind=kind,
        )

    def name(self, age: int, sex: str | None = None, *, surname: str | None = None) -> str:
        """A name someone of this age could have (for contacts and staff)."""
        sex = sex or self.rng.choice((Sex.MALE, Sex.FEMALE))
        return self.person("", Relation.OTHER, sex, age, surname=surname).name

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def couple(self, kind: str, husband_age: int) -> list[Person]:
        husband = self.person(kind, Relation.HEAD, Sex.MALE, husband_age)
        wife_age = max(18, husband_age - self.rng.randint(-2, 5))
        return [husband, self.person(kind, Relation.SPOUSE, Sex.FEMALE, wife_age)]

    def children(self, kind: str, parents: list[Person], count: int) -> list[Person]:
        mother_age = parents[1].age if len(parents) > 1 else parents[0].age
        kids: list[Person] = []
        age = mother_age - self.rng.randint(23, 34)
        for _n in range(count):
            if age < 0:
                break
            sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
            # Children take the father's surname, now and then the mother's.
            parent = parents[0] if self.rng.random() < 0.93 or len(parents) == 1 else parents[1]
            kids.append(self.person(kind, Relation.CHILD, sex, age, surname=parent.surname))
            age -= self.rng.randint(2, 7)
        return kids

    # One function per kind of household; each returns its people, head first.

    def alone_elderly(self) -> list[Person]:
        sex = Sex.FEMALE if self.rng.random() < 0.68 else Sex.MALE
        return [self.person("alone_elderly", Relation.HEAD, sex, self.age(60, 98, 70))]

    def elderly_couple(self) -> list[Person]:
        return self.couple("elderly_couple", self.age(58, 93, 64))

    def single(self) -> list[Person]:
        sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
        people = [self.person("single", Relation.HEAD, sex, self.age(22, 59, 30))]
        if self.rng.random() < 0.15:
            sibling_age = people[0].age + self.rng.randint(-6, 6)
            people.append(
                self.person(
                    "single",
                    Relation.SIBLING,
                    self.rng.choice((Sex.MALE, Sex.FEMALE)),
                    max(18, sibling_age),
                    surname=people[0].surname,
                )
            )
        return people

    def tenants(self) -> list[Person]:
        count = self.rng.choice((2, 2, 3))
        people = []
        for n in range(count):
            relation = Relation.HEAD if n == 0 else Relation.TENANT
            sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
            people.append(self.person("tenants", relation, sex, self.age(20, 45, 26)))
        return people

    def couple_only(self) -> list[Person]:
        return self.couple("couple", self.age(25, 62, 50))

    def family(self) -> list[Person]:
        parents = self.couple("family", self.age(30, 60, 46))
        count = 1 if self.rng.random() < 0.65 else 2
        return parents + self.children("family", parents, count)

    def three_generations(self) -> list[Person]:
        kind = "three_generations"
        parents = self.couple(kind, self.age(34, 60, 46))
        people = parents + self.children(kind, parents, self.rng.choice((1, 1, 2)))
        head = parents[0]
        elder_age = head.age + self.rng.randint(24, 34)
        if self.rng.random() < 0.6:
            people.append(
                self.person(kind, Relation.PARENT, Sex.MALE, elder_age, surname=head.surname)
            )
        if self.rng.random() < 0.8 or len(people) == len(parents):
            people.append(
                self.person(kind, Relation.PARENT, Sex.FEMALE, elder_age - self.rng.randint(0, 4))
            )
        return people

    def elderly_with_child(self) -> list[Person]:
        kind = "elderly_with_child"
        sex = Sex.FEMALE if self.rng.random() < 0.6 else Sex.MALE
        head = self.person(kind, Relation.HEAD, sex, self.age(70, 97, 80))
        child_sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
        child_age = head.age - self.rng.randint(24, 36)
        surname = head.surname if sex == Sex.MALE else None
        child = self.person(kind, Relation.CHILD, child_sex, child_age, surname=surname)
        people = [head, child]
        if self.rng.random() < 0.4:
            other = Sex.FEMALE if child_sex == Sex.MALE else Sex.MALE
            people.append(self.person(kind, Relation.OTHER, other, child_age + 2))
            if self.rng.random() < 0.6 and child_age > 38:
                grandchild_surname = child.surname if child_sex == Sex.MALE else people[-1].surname
                people.append(
                    self.person(
                        kind,
                        Relation.GRANDCHILD,
                        self.rng.choice((Sex.MALE, Sex.FEMALE)),
                        child_age - self.rng.randint(24, 32),
                        surname=grandchild_surname,
                    )
                )
        return people

    def young_family(self, *, expecting: bool | None = None) -> list[Person]:
        kind = "young_family"
        parents = self.couple(kind, self.age(26, 38, 31))
        if expecting is None:
            expecting = self.rng.random() < 0.3
        people = list(parents)
        if expecting:
            parents[1].expecting = True
        else:
            infant = self.person(
                kind,
                Relation.CHILD,
                self.rng.choice((Sex.MALE, Sex.FEMALE)),
                self.rng.randint(0, 2),
                surname=parents[0].surname,
            )
            people.append(infant)
        if self.rng.random() < 0.4:
            grandmother_age = parents[0].age + self.rng.randint(24, 32)
            people.append(self.person(kind, Relation.PARENT, Sex.FEMALE, grandmother_age))
        return people

    def foreign(self) -> list[Person]:
        nationality, men, women = self.rng.choice(_FOREIGNERS)
        husband_age = self.age(25, 55, 35)
        people = [
            Person(
                name=self.rng.choice(men),
                sex=Sex.MALE,
                birth=self.today - dt.timedelta(days=husband_age * 366 + self.rng.randrange(300)),
                relation=Relation.HEAD,
                age=husband_age,
                kind="foreign",
            )
        ]
        if self.rng.random() < 0.6:
            wife_age = husband_age - self.rng.randint(0, 4)
            people.append(
                Person(
                    name=self.rng.choice(women),
                    sex=Sex.FEMALE,
                    birth=self.today - dt.timedelta(days=wife_age * 366 + self.rng.randrange(300)),
                    relation=Relation.SPOUSE,
                    age=wife_age,
                    kind="foreign",
                )
            )
        for person in people:
            person.foreign = nationality
        return people

    def household(self, kind: str) -> list[Person]:
        people = HOUSEHOLD_KINDS[kind](self)
        self.give_phones(people)
        for person in people:
            person.status = self.living_status(person)
        return people

    def give_phones(self, people: list[Person]) -> None:
        for person in people:
            if person.age < 14:
                continue
            chance = 0.5 if person.age < 18 else 0.97 if person.age < 65 else 0.85
            if person.age >= 75:
                chance = 0.55
            if self.rng.random() < chance:
                person.phone = self.mobile()
        # Elderly couples often share one phone.
        if (
            people[0].kind == "elderly_couple"
            and len(people) == 2
            and people[0].phone
            and self.rng.random() < 0.35
        ):
            people[1].phone = people[0].phone

    def living_status(self, person: Person) -> str:
        draw = self.rng.random()
        if draw < 0.02:
            return LivingStatus.MOVED_OUT
        if person.age >= 85 and draw < 0.03:
            return LivingStatus.DECEASED
        if person.age >= 60 and draw < 0.045:
            return LivingStatus.IN_HOSPITAL
        if 18 <= person.age < 46 and draw < 0.08:
            return LivingStatus.AWAY
        return LivingStatus.LIVING_HERE


# How each kind of household is made.
HOUSEHOLD_KINDS: dict[str, Callable[[PeopleMaker], list[Person]]] = {
    "alone_elderly": PeopleMaker.alone_elderly,
    "elderly_couple": PeopleMaker.elderly_couple,
    "single": PeopleMaker.single,
    "tenants": PeopleMaker.tenants,
    "couple": PeopleMaker.couple_only,
    "family": PeopleMaker.family,
    "three_generations": PeopleMaker.three_generations,
    "elderly_with_child": PeopleMaker.elderly_with_child,
    "young_family": PeopleMaker.young_family,
    "foreign": PeopleMaker.foreign,
    # Drawn only as guaranteed kinds (below).
    "expecting": lambda maker: maker.young_family(expecting=True),
    "infant": lambda maker: maker.young_family(expecting=False),
}
# How many households of each kind, by weight. An old town (the community tier) has about
# 3.05 people a household and a quarter aged 60 or more; the city mix (estate and street
# tiers) about 2.85, with more tenants and young families.
HOUSEHOLD_MIXES: dict[str, dict[str, float]] = {
    "old_town": {
        "alone_elderly": 9,
        "elderly_couple": 12,
        "single": 3,
        "tenants": 3,
        "couple": 4,
        "family": 28,
        "three_generations": 24,
        "elderly_with_child": 9,
        "young_family": 7,
        "foreign": 0.4,
    },
    "city": {
        "alone_elderly": 7,
        "elderly_couple": 10,
        "single": 6,
        "tenants": 8,
        "couple": 9,
        "family": 28,
        "three_generations": 16,
        "elderly_with_child": 6,
        "young_family": 10,
        "foreign": 0.5,
    },
}
# Every community has at least one of these, so each care tag has someone to go on.
_GUARANTEED_KINDS = ("foreign", "expecting", "infant", "alone_elderly", "elderly_couple")

# Share of all residents given each care tag: together about 5% (some have two tags).
_TAG_SHARES: dict[str, float] = {
    CareTag.LIVES_ALONE: 0.013,
    CareTag.EMPTY_NEST: 0.010,
    CareTag.DISABLED: 0.008,
    CareTag.DIBAO: 0.005,
    CareTag.EXTREME_HARDSHIP: 0.0015,
    CareTag.PREGNANT: 0.002,
    CareTag.DIALYSIS: 0.001,
    CareTag.SERIOUS_ILLNESS: 0.006,
    CareTag.INFANT: 0.005,
    CareTag.FOREIGN: 1.0,  # every foreign resident
}


# --------------------------------------------------------------------------------------
# Demo accounts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    username: str
    role: str
    area: str


# username → (role, display name)
_STAFF = (
    ("street_admin", Role.STREET_ADMIN, "周建华"),
    ("community_staff", Role.COMMUNITY_STAFF, "梁慧敏"),
    ("hotline_operator", Role.HOTLINE_OPERATOR, "陈晓琳"),
    ("checkpoint_keeper_1", Role.CHECKPOINT_KEEPER, "黄志勇"),
    ("volunteer_1", Role.VOLUNTEER, "林小峰"),
    ("supplier_1", Role.SUPPLIER, "惠民生鲜配送"),
)
_GRID_WORKER_NAMES = ["何丽娟", "邓志强", "罗美玲", "曾伟", "谢晓燕", "区家乐"]
GRID_WORKER_ROWS_SHOWN = 6


def demo_usernames(plan: TierPlan) -> list[str]:
    """Every demo account of a tier, in the order of the accounts table."""
    grids = sum(c.grids for c in plan.communities)
    staff = [username for username, _role, _name in _STAFF]
    workers = [f"grid_worker_{n}" for n in range(1, grids + 1)]
    # Grid workers come after community staff: the table reads from the top down.
    return ["admin", *staff[:2], *workers, *staff[2:], "resident_1"]


# --------------------------------------------------------------------------------------
# The seeder
# --------------------------------------------------------------------------------------


@dataclass
class SeedReport:
    tier: str
    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    elderly_share: float = 0.0


@dataclass
class _Slot:
    unit: Unit
    room: str


@dataclass
class Seeder:
    """Builds one tier's rows in memory, level by level, and writes each level in bulk."""

    plan: TierPlan
    rng: random.Random
    today: dt.date
    street: Street | None = None
    communities: list[Community] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    # Residents and the people they were made from, index for index.
    residents: list[Resident] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    household_members: list[list[int]] = field(default_factory=list)  # per household
    household_index: list[int] = field(default_factory=list)  # per resident
    taken_ids: set[str] = field(default_factory=set)  # blind indexes of ID numbers in use
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.maker = PeopleMaker(self.rng, self.today)

    def run(self, password: str) -> None:
        self.places()
        self.residents_create()
        self.register_create()
        self.accounts_create(password)

    # Places --------------------------------------------------------------------------

    def places(self) -> None:
        plan = self.plan
        self.street = Street.objects.create(name=plan.street_name, code=plan.street_code)
        self.communities = Community.objects.bulk_create(
            [Community(street=self.street, name=c.name, code=c.code) for c in plan.communities]
        )
        grids_of: list[list[Grid]] = []
        for community, cplan in zip(self.communities, plan.communities, strict=True):
            grids_of.append(
                [
                    Grid(community=community, name=f"第{chinese_number(n)}网格", code=f"g{n}")
                    for n in range(1, cplan.grids + 1)
                ]
            )
        self.grids = Grid.objects.bulk_create([g for grids in grids_of for g in grids])

        compounds: list[tuple[Compound, CompoundPlan]] = []
        for community, cplan in zip(self.communities, plan.communities, strict=True):
            compounds += [(Compound(community=community, name=p.name), p) for p in cplan.compounds]
        Compound.objects.bulk_create([c for c, _p in compounds])
        Gate.objects.bulk_create(
            [Gate(compound=c, name=gate) for c, p in compounds for gate in p.gates]
        )

        # Buildings are shared out to the community's grids in order, a run each.
        buildings: list[tuple[Building, CompoundPlan, int, int]] = []
        for community, grids in zip(self.communities, grids_of, strict=True):
            mine = [(c, p) for c, p in compounds if c.community_id == community.pk]
            total = sum(p.buildings for _c, p in mine)
            index = 0
            for compound, cp in mine:
                for number in range(1, cp.buildings + 1):
                    name = f"{number}号楼"
                    building = Building(
                        compound=compound,
                        name=name,
                        sort_key=sort_key(name),
                        grid=grids[index * len(grids) // total],
                    )
                    floors = self.rng.randint(*cp.floors)
                    rooms = self.rng.randint(*cp.rooms_per_floor)
                    buildings.append((building, cp, floors, rooms))
                    index += 1
        Building.objects.bulk_create([b for b, *_rest in buildings])

        units: list[tuple[Unit, int, int]] = []
        for building, cp, floors, rooms in buildings:
            for number in range(1, self.rng.randint(*cp.units) + 1):
                name = f"{number}单元"
                unit = Unit(building=building, name=name, sort_key=sort_key(name))
                units.append((unit, floors, rooms))
        Unit.objects.bulk_create([u for u, _f, _r in units])

        households: list[Household] = []
        for community, cplan in zip(self.communities, plan.communities, strict=True):
            slots = [
                _Slot(unit, f"{floor}{room:02d}")
                for unit, floors, rooms in units
                if unit.building.compound.community_id == community.pk
                for floor in range(1, floors + 1)
                for room in range(1, rooms + 1)
            ]
            if len(slots) < cplan.households:
                raise ValueError(f"{cplan.name}: {len(slots)} rooms for {cplan.households}")
            # The rooms left out are empty flats.
            chosen = sorted(self.rng.sample(range(len(slots)), cplan.households))
            for i in chosen:
                household = Household(room=slots[i].room)
                household.place_in(slots[i].unit)
                households.append(household)
        Household.objects.bulk_create(households, batch_size=1000)
        self.households = households
        self.counts.update(
            communities=len(self.communities),
            grids=len(self.grids),
            compounds=len(compounds),
            buildings=len(buildings),
            units=len(units),
            households=len(households),
        )

    # Residents -----------------------------------------------------------------------

    def residents_create(self) -> None:
        mix = HOUSEHOLD_MIXES[self.plan.household_mix]
        kinds, weights = list(mix), list(mix.values())
        plan_kinds = self.rng.choices(kinds, weights=weights, k=len(self.households))
        # Guaranteed kinds go into every community, at random places.
        for community in self.communities:
            mine = [i for i, h in enumerate(self.households) if h.community_id == community.pk]
            places = self.rng.sample(mine, min(len(mine), len(_GUARANTEED_KINDS)))
            for i, kind in zip(places, _GUARANTEED_KINDS, strict=False):
                plan_kinds[i] = kind
        with scopes_disabled():
            self.taken_ids = set(
                Resident.objects.exclude(id_number_index="").values_list(
                    "id_number_index", flat=True
                )
            )
        name_keys: dict[str, str] = {}  # names repeat: work out each one's pinyin once
        for number, (household, kind) in enumerate(zip(self.households, plan_kinds, strict=True)):
            people = self.maker.household(kind)
            first = len(self.persons)
            self.household_members.append(list(range(first, first + len(people))))
            for person in people:
                self.household_index.append(number)
                resident = Resident(
                    household=household,
                    name=person.name,
                    sex=person.sex,
                    birth_date=person.birth,
                    relation=person.relation,
                    living_status=person.status,
                )
                resident.set_personal_numbers(id_number=self.id_number(person), phone=person.phone)
                if person.name in name_keys:
                    resident.name_search = name_keys[person.name]
                else:
                    resident.refresh_search()
                    name_keys[person.name] = resident.name_search
                self.residents.append(resident)
                self.persons.append(person)
        Resident.objects.bulk_create(self.residents, batch_size=1000)
        self.counts["residents"] = len(self.residents)

    def id_number(self, person: Person) -> str:
        year = person.birth.year
        if person.foreign:
            # Permanent residence cards (2023 format) follow GB 11643: 9, province, country.
            region = "944" + person.foreign
        elif year < 1983:
            pool = _RETIRED_REGIONS if self.rng.random() < 0.04 else _EARLY_REGIONS
            region = self.rng.choice(pool)
        elif self.rng.random() < 0.15:
            region = self.rng.choice(_MIGRANT_REGIONS)
        else:
            region = self.rng.choice([code for code, since in _LOCAL_REGIONS if since <= year])
        # The 17th digit is odd for men, even for women.
        sequence = self.rng.randrange(0, 1000, 2) + (1 if person.sex == Sex.MALE else 0)
        while True:
            number = compose_id_number(region, person.birth, sequence)
            index = blind_index(number, purpose="id_number")
            if index not in self.taken_ids:
                self.taken_ids.add(index)
                return number
            sequence = (sequence + 2) % 1000

    # The special-needs register -----------------------------------------------------------

    def register_create(self) -> None:
        """About 5% of residents on the register, every tag used, with profiles and contacts."""
        total = len(self.residents)
        tags_of: dict[int, list[str]] = {}
        for tag, share in _TAG_SHARES.items():
            wanted = max(1, round(share * total))
            groups = self.tag_pool(tag)
            self.rng.shuffle(groups)
            taken = 0
            for group in groups:
                if taken >= wanted:
                    break
                for i in group:
                    tags_of.setdefault(i, []).append(tag)
                taken += len(group)

        profiles: list[CareProfile] = []
        assignments: list[CareTagAssignment] = []
        contacts: list[EmergencyContact] = []
        for i, tags in sorted(tags_of.items()):
            resident, person = self.residents[i], self.persons[i]
            profiles.append(self.care_profile(resident, person, tags))
            assignments += [CareTagAssignment(resident=resident, tag=tag) for tag in tags]
            contacts += self.emergency_contacts(i, tags)
        CareProfile.objects.bulk_create(profiles, batch_size=1000)
        CareTagAssignment.objects.bulk_create(assignments, batch_size=1000)
        EmergencyContact.objects.bulk_create(contacts, batch_size=1000)
        self.counts.update(
            register=len(profiles), care_tags=len(assignments), emergency_contacts=len(contacts)
        )

    def tag_pool(self, tag: str) -> list[list[int]]:
        """Who may carry a tag, in groups tagged together (an empty-nest couple is one group).

        People who moved out or died are left out, unless nobody else fits (tiny test seeds).
        """
        if tag == CareTag.EMPTY_NEST:
            groups: list[list[int]] = []
            for members in self.household_members:
                people = [self.persons[i] for i in members]
                if (
                    people[0].kind == "elderly_couple"
                    and all(p.age >= 60 for p in people)
                    and all(p.status in _ACTIVE for p in people)
                ):
                    groups.append(members)
            return groups
        criteria: dict[str, Callable[[Person], bool]] = {
            CareTag.LIVES_ALONE: lambda p: p.kind == "alone_elderly" and p.age >= 60,
            CareTag.DISABLED: lambda p: p.age >= 5,
            CareTag.DIBAO: lambda p: p.age >= 18 and not p.foreign,
            CareTag.EXTREME_HARDSHIP: lambda p: p.kind == "alone_elderly",
            CareTag.PREGNANT: lambda p: p.expecting,
            CareTag.DIALYSIS: lambda p: p.age >= 40,
            CareTag.SERIOUS_ILLNESS: lambda p: p.age >= 45,
            CareTag.INFANT: lambda p: p.age < 3,
            CareTag.FOREIGN: lambda p: bool(p.foreign),
        }
        fits = criteria[tag]
        living = [[i] for i, p in enumerate(self.persons) if fits(p) and p.status in _ACTIVE]
        return living or [[i] for i, p in enumerate(self.persons) if fits(p)]

    def care_profile(self, resident: Resident, person: Person, tags: list[str]) -> CareProfile:
        rng = self.rng
        conditions: list[str] = []
        for tag in tags:
            if tag in _CONDITIONS:
                conditions.append(rng.choice(_CONDITIONS[tag]))
        if person.age >= 60:
            conditions += rng.sample(_CONDITIONS["elderly"], rng.choice((0, 1, 1, 2)))
        needs_care = person.age >= 70 or {
            CareTag.DISABLED,
            CareTag.DIALYSIS,
            CareTag.SERIOUS_ILLNESS,
        }.intersection(tags)
        ltc_level = None
        if needs_care and rng.random() < 0.5:
            ltc_level = rng.choices(range(1, 7), weights=(15, 25, 25, 17, 10, 8))[0]
        hobbies = "、".join(rng.sample(_HOBBIES, rng.randint(1, 2))) if person.age >= 40 else ""
        notes = ""
        if CareTag.LIVES_ALONE in tags:
            notes = rng.choice(("备用钥匙放在对门邻居处", "子女在外地，每周来电", "", ""))
        elif CareTag.FOREIGN in tags:
            notes = rng.choice(("中文沟通有限，可用英语", "会说简单中文"))
        return CareProfile(
            resident=resident,
            conditions="；".join(dict.fromkeys(conditions)),
            ltc_level=ltc_level,
            hobbies=hobbies,
            birthday=person.birth,
            notes=notes,
        )

    def emergency_contacts(self, index: int, tags: list[str]) -> list[EmergencyContact]:
        """One or two people to call: a parent or spouse at home, else children, kin, neighbours."""
        person, resident = self.persons[index], self.residents[index]
        housemates = [self.persons[i] for i in self.household_members[self.household_index[index]]]
        found: list[tuple[str, str, str]] = []
        if CareTag.INFANT in tags or person.age < 18:
            for parent in housemates:
                if parent.relation in (Relation.HEAD, Relation.SPOUSE) and parent.phone:
                    relation = "父亲" if parent.sex == Sex.MALE else "母亲"
                    found.append((parent.name, relation, parent.phone))
        elif CareTag.PREGNANT in tags:
            husband = next((p for p in housemates if p.relation == Relation.HEAD), None)
            if husband is not None and husband.phone:
                found.append((husband.name, "丈夫", husband.phone))
        elif CareTag.FOREIGN in tags:
            found.append((self.maker.name(self.maker.age(25, 50)), "同事", ""))
        else:
            child_sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
            surname = person.surname if person.sex == Sex.MALE else None
            child_name = self.maker.name(max(18, person.age - 28), child_sex, surname=surname)
            found.append((child_name, "儿子" if child_sex == Sex.MALE else "女儿", ""))
        if len(found) < 2 and self.rng.random() < 0.5:
            relation, sex = self.rng.choice(
                (("邻居", None), ("侄子", Sex.MALE), ("外甥女", Sex.FEMALE), ("楼长", None))
            )
            found.append((self.maker.name(self.maker.age(30, 70), sex), relation, ""))
        if not found:
            found.append((self.maker.name(self.maker.age(30, 70)), "邻居", ""))
        return [
            EmergencyContact(
                resident=resident, name=name, relation=relation, phone=phone or self.maker.mobile()
            )
            for name, relation, phone in found[:2]
        ]

    # Demo accounts ---------------------------------------------------------------------

    def accounts_create(self, password: str) -> None:
        # One hash for all: PBKDF2 takes a third of a second per call, and every demo
        # account has the same password anyway.
        hashed = make_password(password)
        usernames = demo_usernames(self.plan)
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        community = self.communities[0]
        users: list[User] = []
        areas: list[UserArea] = []
        worker_links: list[tuple[User, Grid]] = []

        def add(username: str, role: str, display_name: str, **flags: bool) -> User | None:
            if username in existing:
                return None
            user = User(
                username=username,
                password=hashed,
                role=role,
                display_name=display_name,
                **flags,
            )
            users.append(user)
            return user

        add("admin", "", "管理员", is_superuser=True, is_staff=True)
        for username, role, display_name in _STAFF:
            user = add(username, role, display_name)
            if user is None or role in (Role.VOLUNTEER, Role.SUPPLIER):
                continue
            if role == Role.STREET_ADMIN:
                areas.append(UserArea(user=user, street=self.street))
            else:
                areas.append(UserArea(user=user, community=community))
        for number, grid in enumerate(self.grids, start=1):
            display_name = (
                _GRID_WORKER_NAMES[number - 1]
                if number <= len(_GRID_WORKER_NAMES)
                else self.maker.name(self.maker.age(25, 50))
            )
            user = add(f"grid_worker_{number}", Role.GRID_WORKER, display_name)
            if user is not None:
                worker_links.append((user, grid))
                areas.append(UserArea(user=user, community_id=grid.community_id))
        resident = self.resident_for_account()
        resident_user = add("resident_1", Role.RESIDENT, resident.name)

        User.objects.bulk_create(users)
        UserArea.objects.bulk_create(areas)
        Grid.workers.through.objects.bulk_create(
            [Grid.workers.through(grid=grid, user=user) for user, grid in worker_links]
        )
        if resident_user is not None:
            Resident.objects.filter(pk=resident.pk).update(user=resident_user)
        self.counts["users"] = len(users)

    def resident_for_account(self) -> Resident:
        """A household head of working age in grid 1, who would use the resident pages."""
        first_grid = self.grids[0].pk
        candidates = [
            (resident, person)
            for resident, person in zip(self.residents, self.persons, strict=True)
            if resident.household.grid_id == first_grid and person.status in _ACTIVE
        ]
        for resident, person in candidates:
            if (
                person.relation == Relation.HEAD
                and 25 <= person.age <= 65
                and person.phone
                and person.status == LivingStatus.LIVING_HERE
            ):
                return resident
        return candidates[0][0]


def seed(
    *,
    tier: str,
    password: str = DEFAULT_PASSWORD,
    households: int | None = None,
    today: dt.date | None = None,
) -> SeedReport:
    """Seed a tier unless its street exists already; `households` scales it down (tests).

    The same tier gives the same town every time (a fixed random seed); only the ages,
    and so the birth dates and ID numbers, follow `today`.
    """
    plan = plan_for(tier, households)
    with scopes_disabled():
        if Street.objects.filter(code=plan.street_code).exists():
            return SeedReport(tier=tier, created=False)
        seeder = Seeder(
            plan=plan,
            rng=random.Random(f"linli-seed-{tier}"),
            today=today or timezone.localdate(),
        )
        with transaction.atomic():
            seeder.run(password)
    elderly = sum(1 for p in seeder.persons if p.age >= 60)
    return SeedReport(
        tier=tier,
        created=True,
        counts=seeder.counts,
        elderly_share=elderly / max(1, len(seeder.persons)),
    )


def seed_installed_apps(*, tier: str, password: str, stdout: OutputWrapper | None) -> None:
    """After the registry, each installed app that has demo data seeds it, in INSTALLED_APPS
    order: an AppConfig with a `seed(tier=, password=, stdout=)` method. The registry
    imports none of them (they build on it); each is deterministic and idempotent itself."""
    _analyze()
    for config in apps.get_app_configs():
        app_seed = getattr(config, "seed", None)
        if callable(app_seed):
            app_seed(tier=tier, password=password, stdout=stdout)
    _analyze()


def _analyze() -> None:
    """On PostgreSQL, fresh statistics for the rows just written: the apps' seeds then query
    thousands of households, and a planner that believes a table empty nested-loops them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --------------------------------------------------------------------------------------
# The accounts table
# --------------------------------------------------------------------------------------


def account_rows(tier: str) -> list[AccountRow]:
    """The demo accounts as they are in the database, with where each works."""
    plan = plan_for(tier)
    usernames = demo_usernames(plan)
    with scopes_disabled():
        users = {u.username: u for u in User.objects.filter(username__in=usernames)}
        areas = {
            a.user_id: a
            for a in UserArea.objects.filter(user__in=users.values()).select_related(
                "street", "community"
            )
        }
        grids: dict[int, list[str]] = {}
        links = Grid.workers.through.objects.filter(user__in=users.values()).select_related(
            "grid__community"
        )
        for link in links.order_by("grid__community__code", "grid__pk"):
            grids.setdefault(link.user_id, []).append(f"{link.grid.community.name}{link.grid.name}")
        homes = {
            r.user_id: f"{r.household.address}（{r.name}）"
            for r in Resident.objects.filter(user__in=users.values()).select_related("household")
        }
    rows: list[AccountRow] = []
    workers: list[str] = []
    for username in usernames:
        user = users.get(username)
        if user is None:
            continue
        if user.is_superuser:
            role, area = _("超级管理员"), _("全部（管理后台 /admin/）")
        else:
            role = user.get_role_display()
            place = areas.get(user.pk)
            area = (
                "、".join(grids.get(user.pk, []))
                or homes.get(user.pk)
                or (str(place) if place else "")
                or "—"
            )
        if user.role == Role.GRID_WORKER:
            workers.append(username)
            if len(workers) > GRID_WORKER_ROWS_SHOWN:
                continue
        rows.append(AccountRow(username, role, area))
    if len(workers) > GRID_WORKER_ROWS_SHOWN:
        hidden = workers[GRID_WORKER_ROWS_SHOWN:]
        index = next(
            i for i, r in enumerate(rows) if r.username == workers[GRID_WORKER_ROWS_SHOWN - 1]
        )
        rows.insert(
            index + 1,
            AccountRow(
                f"{hidden[0]} … {hidden[-1]}",
                str(Role.GRID_WORKER.label),
                _("其余 %(count)d 个网格，每格一人") % {"count": len(hidden)},
            ),
        )
    return rows


def _width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_accounts(rows: Sequence[AccountRow], password: str) -> str:
    """The accounts as an aligned plain-text table, with the shared password under it."""
    header = AccountRow(_("账号"), _("角色"), _("区域"))
    table = [header, *rows]
    widths = [max(_width(getattr(r, f)) for r in table) for f in ("username", "role", "area")]
    lines = []
    for n, row in enumerate(table):
        cells = (row.username, row.role, row.area)
        lines.append("  ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(_("所有账号的密码：%(password)s") % {"password": password})
    return "\n".join(lines)

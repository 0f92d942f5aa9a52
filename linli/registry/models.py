"""Places (street … room), grids, households, residents and the special-needs register.

People data (households, residents and everything hanging off them) is read through
scoped managers: a query made outside `registry.scope.activate` raises instead of
returning rows, so a forgotten filter fails closed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager, scopes_disabled

from linli.lib.encryption import EncryptedCharField, EncryptedTextField, blind_index
from linli.lib.identity import check_id_number, check_mobile
from linli.lib.masking import mask_id_number, mask_phone
from linli.lib.pinyin import search_keys
from linli.registry.choices import CareTag, LivingStatus, Relation, Sex


def sort_key(name: str) -> int:
    """'12号楼' sorts after '2号楼': the first number in a name, else a large number."""
    match = re.search(r"\d+", name)
    return int(match.group()) if match else 1_000_000


class Street(models.Model):
    name = models.CharField(_("街道"), max_length=64)
    code = models.SlugField(_("编码"), max_length=32, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("街道")
        verbose_name_plural = _("街道")

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities")
    name = models.CharField(_("社区"), max_length=64)
    code = models.SlugField(_("编码"), max_length=32, unique=True)
    # Community rules for the field work (volunteers and checkpoints), set by its staff.
    volunteer_test_required = models.BooleanField(_("志愿者须持有效核酸阴性证明"), default=False)
    volunteer_test_hours = models.PositiveSmallIntegerField(
        _("核酸阴性有效时长（小时）"), default=48
    )
    goods_hold_minutes = models.PositiveSmallIntegerField(
        _("物资消杀后静置时长（分钟）"), default=120
    )

    objects: ClassVar[models.Manager[Community]] = ScopedManager(community="pk")

    class Meta:
        ordering = ["code"]
        verbose_name = _("社区")
        verbose_name_plural = _("社区")

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids")
    name = models.CharField(_("网格"), max_length=64)
    code = models.SlugField(_("编码"), max_length=32)
    workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="grids", blank=True, verbose_name=_("网格员")
    )

    objects: ClassVar[models.Manager[Grid]] = ScopedManager(community="community")

    class Meta:
        ordering = ["community", "code"]
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="grid_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Compound(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="compounds")
    name = models.CharField(_("小区"), max_length=64)

    objects: ClassVar[models.Manager[Compound]] = ScopedManager(community="community")

    class Meta:
        ordering = ["community", "name"]
        verbose_name = _("小区")
        verbose_name_plural = _("小区")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="compound_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Gate(models.Model):
    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="gates")
    name = models.CharField(_("出入口"), max_length=64)

    objects: ClassVar[models.Manager[Gate]] = ScopedManager(community="compound__community")

    class Meta:
        ordering = ["compound", "name"]
        verbose_name = _("出入口")
        verbose_name_plural = _("出入口")

    def __str__(self) -> str:
        return f"{self.compound.name}{self.name}"


class Building(models.Model):
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="buildings")
    name = models.CharField(_("楼栋"), max_length=32)
    sort_key = models.IntegerField(default=0, editable=False)
    grid = models.ForeignKey(
        Grid,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="buildings",
        verbose_name=_("网格"),
    )

    objects: ClassVar[models.Manager[Building]] = ScopedManager(community="compound__community")

    class Meta:
        ordering = ["compound", "sort_key", "name"]
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        constraints = [
            models.UniqueConstraint(fields=["compound", "name"], name="building_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.compound.name}{self.name}"


class Unit(models.Model):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units")
    name = models.CharField(_("单元"), max_length=32)
    sort_key = models.IntegerField(default=0, editable=False)
    # A unit's own grid overrides its building's (a building split between two grids).
    grid = models.ForeignKey(
        Grid,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("网格"),
    )

    objects: ClassVar[models.Manager[Unit]] = ScopedManager(
        community="building__compound__community"
    )

    class Meta:
        ordering = ["building", "sort_key", "name"]
        verbose_name = _("单元")
        verbose_name_plural = _("单元")
        constraints = [
            models.UniqueConstraint(fields=["building", "name"], name="unit_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.building}{self.name}"

    @property
    def effective_grid_id(self) -> int | None:
        return self.grid_id or self.building.grid_id


class ImportBatch(models.Model):
    """One confirmed import of residents into a community: what it wrote, so it can be undone.

    The rows it created point back here (import_batch). Counts are as written at import.
    """

    UNDO_DAYS = 7

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="import_batches", verbose_name=_("社区")
    )
    # Staff-only: the name of a file may name someone, so it never goes into audit entries.
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    residents = models.PositiveIntegerField(_("导入居民"), default=0)
    households = models.PositiveIntegerField(_("新建户"), default=0)
    tags = models.PositiveIntegerField(_("重点人群标签"), default=0)
    skipped = models.PositiveIntegerField(_("未导入行"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    undone_at = models.DateTimeField(null=True, blank=True, editable=False)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects: ClassVar[models.Manager[ImportBatch]] = ScopedManager(community="community")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def undo_deadline(self) -> dt.datetime:
        return self.created_at + dt.timedelta(days=self.UNDO_DAYS)

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None

    def can_undo_now(self) -> bool:
        """Not undone and not too old; whether its residents were changed is asked at undo."""
        return not self.is_undone and timezone.now() <= self.undo_deadline


def _import_batch_field() -> models.ForeignKey[ImportBatch | None, ImportBatch | None]:
    return models.ForeignKey(
        ImportBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )


class HouseholdQuerySet(models.QuerySet["Household"]):
    def in_grids(self, grid_ids: list[int]) -> HouseholdQuerySet:
        return self.filter(grid_id__in=grid_ids)


HouseholdManager = models.Manager.from_queryset(HouseholdQuerySet)


class Household(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="households")
    room = models.CharField(_("房号"), max_length=16)
    room_sort_key = models.IntegerField(default=0, editable=False)
    # Copied down from the unit so that scope checks and lists need no four-way join;
    # kept right by the actions that move a household or change grid coverage.
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="households", editable=False
    )
    grid = models.ForeignKey(
        Grid,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="households",
        editable=False,
    )
    address = models.CharField(_("地址"), max_length=160, editable=False, db_index=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    import_batch = _import_batch_field()

    objects: ClassVar[HouseholdManager[Household]] = ScopedManager(
        _manager_class=HouseholdManager,
        community="community",
        grid="grid",
        household="pk",
    )

    class Meta:
        ordering = ["unit_id", "room_sort_key", "room"]
        verbose_name = _("户")
        verbose_name_plural = _("户")
        constraints = [
            models.UniqueConstraint(fields=["unit", "room"], name="household_unique_room"),
        ]

    def __str__(self) -> str:
        return self.address

    def place_in(self, unit: Unit) -> None:
        """Copy the unit's place and grid onto the household (before saving)."""
        building = unit.building
        compound = building.compound
        self.unit = unit
        self.community_id = compound.community_id
        self.grid_id = unit.grid_id or building.grid_id
        self.address = f"{compound.name}{building.name}{unit.name}{self.room}"
        self.room_sort_key = sort_key(self.room)


class ResidentQuerySet(models.QuerySet["Resident"]):
    def search(self, text: str) -> ResidentQuerySet:
        """By name, full pinyin or initials, last four phone digits, address or whole numbers."""
        text = text.strip()
        if not text:
            return self
        condition = Q(name__contains=text) | Q(household__address__contains=text)
        lowered = text.lower().replace(" ", "")
        if lowered.isascii() and lowered.isalpha():
            condition |= Q(name_search__contains=lowered)
        digits = text.replace(" ", "")
        if digits.isdigit() and len(digits) == 4:
            condition |= Q(phone_last4=digits)
        if len(digits) == 11 and digits.isdigit():
            condition |= Q(phone_index=blind_index(digits, purpose="phone"))
        if len(digits) == 18:
            condition |= Q(id_number_index=blind_index(digits, purpose="id_number"))
        return self.filter(condition)

    def on_register(self) -> ResidentQuerySet:
        # EXISTS rather than a join + DISTINCT: the outer query is already scoped.
        tagged = CareTagAssignment._base_manager.filter(resident_id=OuterRef("pk"))
        return self.filter(Exists(tagged))

    def with_tag(self, tag: str) -> ResidentQuerySet:
        return self.filter(care_tags__tag=tag)

    # The residents themselves are scoped; their tags and contacts are fetched by resident
    # id through the plain manager, since repeating the scope join in these child queries
    # made SQLite scan the whole area (120 ms at 40,000 residents). The lists land in
    # `tag_list` and `contact_list`.
    def with_tags(self) -> ResidentQuerySet:
        tags = CareTagAssignment._base_manager.order_by("tag")
        return self.prefetch_related(Prefetch("care_tags", queryset=tags, to_attr="tag_list"))

    def with_contacts(self) -> ResidentQuerySet:
        contacts = EmergencyContact._base_manager.order_by("pk")
        return self.prefetch_related(
            Prefetch("emergency_contacts", queryset=contacts, to_attr="contact_list")
        )


ResidentManager = models.Manager.from_queryset(ResidentQuerySet)


class Resident(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="residents")
    name = models.CharField(_("姓名"), max_length=64)
    name_search = models.CharField(max_length=600, editable=False, blank=True)
    sex = models.CharField(_("性别"), max_length=8, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = EncryptedCharField(_("身份证号"), max_length=18, blank=True)
    id_number_index = models.CharField(max_length=40, blank=True, editable=False)
    phone = EncryptedCharField(_("手机号"), max_length=20, blank=True)
    phone_index = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    phone_last4 = models.CharField(max_length=4, blank=True, editable=False, db_index=True)
    relation = models.CharField(
        _("与户主关系"), max_length=16, choices=Relation.choices, default=Relation.HEAD
    )
    living_status = models.CharField(
        _("居住状态"), max_length=16, choices=LivingStatus.choices, default=LivingStatus.LIVING_HERE
    )
    notes = models.TextField(_("备注"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
        verbose_name=_("居民账号"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    import_batch = _import_batch_field()

    objects: ClassVar[ResidentManager[Resident]] = ScopedManager(
        _manager_class=ResidentManager,
        community="household__community",
        grid="household__grid",
        household="household",
    )

    class Meta:
        ordering = ["household_id", "pk"]
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=~Q(id_number_index=""),
                name="resident_unique_id_number",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Check the ID and phone numbers and keep the derived fields in step with them."""
        errors: dict[str, list[str]] = {}
        id_checked = check_id_number(self.id_number or "")
        phone_checked = check_mobile(self.phone or "")
        if id_checked.errors:
            errors["id_number"] = id_checked.errors
        if phone_checked.errors:
            errors["phone"] = phone_checked.errors
        if not errors:
            self.set_personal_numbers(id_number=id_checked.value, phone=phone_checked.value)
            if id_checked.birth_date:
                if self.birth_date and self.birth_date != id_checked.birth_date:
                    errors["birth_date"] = [str(_("出生日期与身份证号不一致"))]
                self.birth_date = id_checked.birth_date
                self.sex = self.sex or id_checked.sex
            if self.id_number_index and self.id_number_duplicates().exists():
                errors["id_number"] = [str(_("身份证号已登记在其他居民名下"))]
        if self.birth_date and self.birth_date > timezone.localdate():
            errors["birth_date"] = [str(_("出生日期不能晚于今天"))]
        if errors:
            raise ValidationError(errors)

    def id_number_duplicates(self) -> models.QuerySet[Resident]:
        # Dedupe looks across the whole database, whatever the user's scope: an ID number
        # registered in another grid is still a duplicate (the other record is not shown).
        with scopes_disabled():
            return Resident.objects.filter(id_number_index=self.id_number_index).exclude(pk=self.pk)

    def warnings(self) -> list[str]:
        """Doubts that do not block saving: retired region codes, unknown phone prefixes."""
        return (
            check_id_number(self.id_number or "").warnings + check_mobile(self.phone or "").warnings
        )

    def set_personal_numbers(self, *, id_number: str, phone: str) -> None:
        """Store the numbers with their blind indexes and the searchable phone tail."""
        self.id_number = id_number
        self.id_number_index = blind_index(id_number, purpose="id_number")
        self.phone = phone
        self.phone_index = blind_index(phone, purpose="phone")
        self.phone_last4 = phone[-4:] if phone else ""

    def refresh_search(self) -> None:
        self.name_search = search_keys(self.name)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number or "")

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")

    def age_on(self, day: dt.date) -> int | None:
        if self.birth_date is None:
            return None
        birth = self.birth_date
        return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))

    @property
    def age(self) -> int | None:
        return self.age_on(timezone.localdate())


_people_scope: dict[str, Any] = {
    "community": "resident__household__community",
    "grid": "resident__household__grid",
    "household": "resident__household",
}


class CareProfile(models.Model):
    """What the register knows of a resident with special needs, beyond the tags."""

    resident = models.OneToOneField(Resident, on_delete=models.CASCADE, related_name="care_profile")
    conditions = EncryptedTextField(_("健康状况"), blank=True)
    ltc_level = models.PositiveSmallIntegerField(_("长护险等级"), null=True, blank=True)
    hobbies = models.CharField(_("爱好"), max_length=200, blank=True)
    birthday = models.DateField(_("生日"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[models.Manager[CareProfile]] = ScopedManager(**_people_scope)

    class Meta:
        verbose_name = _("关爱档案")
        verbose_name_plural = _("关爱档案")
        constraints = [
            models.CheckConstraint(
                condition=Q(ltc_level__isnull=True) | Q(ltc_level__gte=1, ltc_level__lte=6),
                name="care_profile_ltc_level_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.resident)

    @property
    def masked_conditions(self) -> str:
        """Health text on screen: that there is some, never what it says (reveal to read)."""
        from linli.lib.masking import mask_completely

        return mask_completely(self.conditions or "")


class CareTagAssignment(models.Model):
    """One care tag on one resident, with who put it there and when."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="care_tags")
    tag = models.CharField(_("重点人群标签"), max_length=32, choices=CareTag.choices)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    import_batch = _import_batch_field()

    objects: ClassVar[models.Manager[CareTagAssignment]] = ScopedManager(**_people_scope)

    class Meta:
        ordering = ["tag"]
        verbose_name = _("重点人群标签")
        verbose_name_plural = _("重点人群标签")
        constraints = [
            models.UniqueConstraint(fields=["resident", "tag"], name="care_tag_unique"),
        ]

    def __str__(self) -> str:
        return self.get_tag_display()


class EmergencyContact(models.Model):
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="emergency_contacts"
    )
    name = models.CharField(_("联系人"), max_length=64)
    relation = models.CharField(_("关系"), max_length=32)
    phone = EncryptedCharField(_("电话"), max_length=20)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[models.Manager[EmergencyContact]] = ScopedManager(**_people_scope)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("紧急联系人")
        verbose_name_plural = _("紧急联系人")

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")


class UserArea(models.Model):
    """Where a staff account works: a street, or a community (grid workers also via Grid)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="area"
    )
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("工作区域")
        verbose_name_plural = _("工作区域")
        constraints = [
            models.CheckConstraint(
                condition=Q(street__isnull=True) | Q(community__isnull=True),
                name="user_area_one_level",
            ),
        ]

    def __str__(self) -> str:
        return str(self.community or self.street or "-")

"""Writes for micro-wishes. Pages, the API and the CLI call these.

Claiming is the part that must hold under a rush (45 wishes gone in 19 minutes): in one
transaction the claimer's counter goes up only while below the batch's limit, and the wish
goes from published to claimed only if it still is; either conditional UPDATE finding no
row rolls the whole claim back. Every status change leaves a WishEvent with who and when.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.lib.identity import check_mobile
from linli.lib.language import in_default_language
from linli.notify.actions import message_send
from linli.registry.models import Community, Household, Resident
from linli.wishes.choices import BatchStatus, ClaimerKind, DeliveryMode, WishStatus
from linli.wishes.models import (
    Claimer,
    Wish,
    WishBatch,
    WishClaim,
    WishEvent,
    claimer_phone_index,
    new_claim_token,
    token_digest,
)
from linli.workforce import actions as workforce
from linli.workforce.choices import StopStatus, TaskKind, TaskStatus
from linli.workforce.models import Task, TaskStop

Errors = dict[str, list[str]]

MAX_QUANTITY = 999
MAX_VALUE_FEN = 1_000_000  # ¥10,000: a micro-wish is small
MAX_LIMIT = 50
_DIGITS = re.compile(r"\d{7,}")


def _record(wish: Wish, *, actor: User | None, before: str, note: str = "") -> None:
    WishEvent.objects.create(
        wish=wish, actor=actor, from_status=before, to_status=wish.status, note=note[:300]
    )


def _status_error(wish: Wish, to: str) -> ValidationError:
    return ValidationError(
        {
            "status": [
                _("心愿当前为“%(status)s”，不能改为“%(to)s”")
                % {"status": wish.get_status_display(), "to": WishStatus(to).label}
            ]
        }
    )


def _move(wish: Wish, to: str, *, actor: User | None, note: str = "", **fields: object) -> Wish:
    """Move the wish from the status it has in the database to `to`, or refuse clearly."""
    before = wish.status
    if not wish.can_become(to):
        raise _status_error(wish, to)
    changed = Wish.objects.filter(pk=wish.pk, status=before).update(status=to, **fields)
    if not changed:
        raise ValidationError({"status": [_("心愿刚被他人更新，请刷新后再试")]})
    wish.refresh_from_db()
    _record(wish, actor=actor, before=before, note=note)
    return wish


# --- collecting -------------------------------------------------------------------------


@dataclass
class WishInput:
    household: Household
    recipient: str
    item: str
    quantity: int = 1
    value_fen: int = 0
    note: str = ""
    photo: UploadedFile | None = None


def _household_names(household_id: int) -> list[str]:
    with scopes_disabled():
        return [
            name
            for name in Resident.objects.filter(household_id=household_id).values_list(
                "name", flat=True
            )
            if name
        ]


def _check_wish(data: WishInput) -> Errors:
    errors: Errors = {}
    recipient = data.recipient.strip()
    if not recipient:
        errors["recipient"] = [_("请填写心愿对象的公开描述，如“一位低保户老人”")]
    elif len(recipient) > 40:
        errors["recipient"] = [_("心愿对象描述不能超过 40 个字")]
    else:
        named = [n for n in _household_names(data.household.pk) if n in recipient]
        if named or _DIGITS.search(recipient):
            errors["recipient"] = [
                _("心愿对象描述会公开，不能写姓名、电话或门牌，请写“一位低保户老人”这样的描述")
            ]
    if not data.item.strip():
        errors["item"] = [_("请填写心愿物品")]
    elif len(data.item.strip()) > 60:
        errors["item"] = [_("心愿物品不能超过 60 个字")]
    if not 1 <= data.quantity <= MAX_QUANTITY:
        errors["quantity"] = [_("数量应在 1 到 %(n)d 之间") % {"n": MAX_QUANTITY}]
    if not 0 <= data.value_fen <= MAX_VALUE_FEN:
        errors["value_fen"] = [_("估计价值应在 0 到 10000 元之间")]
    return errors


@transaction.atomic
def wish_collect(*, actor: User, data: WishInput) -> Wish:
    """A wish heard at a household's door, written down for the household."""
    errors = _check_wish(data)
    if errors:
        raise ValidationError(errors)
    wish = Wish(
        community_id=data.household.community_id,
        household=data.household,
        recipient=data.recipient.strip(),
        item=data.item.strip(),
        quantity=data.quantity,
        value_fen=data.value_fen,
        note=data.note.strip()[:200],
        created_by=actor,
    )
    if data.photo is not None:
        wish.photo = data.photo
    wish.save()
    _record(wish, actor=actor, before="", note=_("收集心愿"))
    return wish


@transaction.atomic
def wish_update(*, actor: User, wish: Wish, data: WishInput) -> Wish:
    """Correct a wish before it is published (the household stays the same)."""
    if wish.status not in (WishStatus.COLLECTED, WishStatus.APPROVED):
        raise ValidationError({"status": [_("心愿已发布，不能再修改；如需更改请先撤回")]})
    if data.household.pk != wish.household_id:
        raise ValidationError({"household": [_("不能更改心愿所属的户")]})
    errors = _check_wish(data)
    if errors:
        raise ValidationError(errors)
    wish.recipient = data.recipient.strip()
    wish.item = data.item.strip()
    wish.quantity = data.quantity
    wish.value_fen = data.value_fen
    wish.note = data.note.strip()[:200]
    if data.photo is not None:
        wish.photo = data.photo
    wish.save()
    _record(wish, actor=actor, before=wish.status, note=_("修改心愿"))
    return wish


@transaction.atomic
def wish_approve(*, actor: User, wish: Wish) -> Wish:
    return _move(wish, WishStatus.APPROVED, actor=actor, note=_("审核通过"))


@transaction.atomic
def wish_withdraw(*, actor: User, wish: Wish, reason: str) -> Wish:
    """Take a wish back (the household no longer needs it, or it should not be public).
    A live claim on it ends, and the claimer is told."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写撤回原因")]})
    if wish.status == WishStatus.CLAIMED:
        claim = _live_claim(wish)
        if claim is not None:
            _end_claim(claim, actor=actor, reason=reason)
            _tell_claimer(
                claim.claimer,
                kind="wish.withdrawn",
                body=_withdrawn_message(wish, reason),
                actor=actor,
            )
    return _move(
        wish,
        WishStatus.WITHDRAWN,
        actor=actor,
        note=reason,
        withdrawn_reason=reason[:200],
        claimer=None,
        claimed_at=None,
    )


@in_default_language
def _withdrawn_message(wish: Wish, reason: str) -> str:
    return _("【邻里】您认领的微心愿“%(wish)s”已由社区撤回（%(reason)s），无需再准备，谢谢您。") % {
        "wish": wish.label,
        "reason": reason,
    }


# --- batches ----------------------------------------------------------------------------


def _check_batch(title: str, deliver_by: dt.date | None, limit: int) -> Errors:
    errors: Errors = {}
    if not title.strip():
        errors["title"] = [_("请填写批次标题")]
    if deliver_by is None:
        errors["deliver_by"] = [_("请填写送达截止日期")]
    elif deliver_by < timezone.localdate():
        errors["deliver_by"] = [_("送达截止日期不能早于今天")]
    if not 1 <= limit <= MAX_LIMIT:
        errors["per_claimer_limit"] = [_("每人最多认领数应在 1 到 %(n)d 之间") % {"n": MAX_LIMIT}]
    return errors


@transaction.atomic
def batch_create(
    *,
    actor: User,
    community: Community,
    title: str,
    deliver_by: dt.date | None,
    per_claimer_limit: int = 2,
    note: str = "",
) -> WishBatch:
    errors = _check_batch(title, deliver_by, per_claimer_limit)
    if errors:
        raise ValidationError(errors)
    assert deliver_by is not None  # noqa: S101 (checked above)
    return WishBatch.objects.create(
        community=community,
        title=title.strip()[:100],
        note=note.strip()[:2000],
        deliver_by=deliver_by,
        per_claimer_limit=per_claimer_limit,
        created_by=actor,
    )


@transaction.atomic
def batch_update(
    *,
    actor: User,
    batch: WishBatch,
    title: str,
    deliver_by: dt.date | None,
    per_claimer_limit: int,
    note: str = "",
) -> WishBatch:
    """Title, deadline, limit and the public note. A lower limit does not take wishes off
    anyone who already holds more; it stops them claiming another."""
    if batch.status == BatchStatus.CLOSED:
        raise ValidationError({"status": [_("批次已结束，不能再修改")]})
    errors = _check_batch(title, deliver_by, per_claimer_limit)
    if errors:
        raise ValidationError(errors)
    assert deliver_by is not None  # noqa: S101 (checked above)
    batch.title = title.strip()[:100]
    batch.deliver_by = deliver_by
    batch.per_claimer_limit = per_claimer_limit
    batch.note = note.strip()[:2000]
    batch.save()
    return batch


def _next_number(batch: WishBatch) -> int:
    top = Wish.objects.filter(batch=batch).aggregate(top=Max("number"))["top"]
    return int(top or 0) + 1


@transaction.atomic
def batch_add(*, actor: User, batch: WishBatch, wishes: Sequence[Wish]) -> WishBatch:
    """Put approved wishes into a batch (numbered in the order given). Into a published
    batch they are published at once."""
    if batch.status == BatchStatus.CLOSED:
        raise ValidationError({"status": [_("批次已结束，不能再加入心愿")]})
    if not wishes:
        raise ValidationError({"wishes": [_("请选择要加入的心愿")]})
    for wish in wishes:
        if wish.community_id != batch.community_id:
            raise ValidationError({"wishes": [_("%(wish)s 不属于本批次的社区") % {"wish": wish}]})
        if wish.status != WishStatus.APPROVED or wish.batch_id is not None:
            raise ValidationError(
                {
                    "wishes": [
                        _("%(wish)s 当前为“%(status)s”，只有已审核且未加入批次的心愿可以加入")
                        % {"wish": wish, "status": wish.get_status_display()}
                    ]
                }
            )
    number = _next_number(batch)
    for wish in wishes:
        changed = Wish.objects.filter(
            pk=wish.pk, status=WishStatus.APPROVED, batch__isnull=True
        ).update(batch=batch, number=number)
        if not changed:
            raise ValidationError({"wishes": [_("心愿刚被他人更新，请刷新后再试")]})
        wish.refresh_from_db()
        number += 1
        if batch.status == BatchStatus.PUBLISHED:
            _move(wish, WishStatus.PUBLISHED, actor=actor, note=_("加入已发布的批次"))
        else:
            _record(wish, actor=actor, before=wish.status, note=_("加入批次 %(b)s") % {"b": batch})
    return batch


@transaction.atomic
def batch_remove(*, actor: User, batch: WishBatch, wish: Wish) -> Wish:
    """Take an unclaimed wish off a batch; it stays approved, for a later batch."""
    if wish.batch_id != batch.pk:
        raise ValidationError({"wish": [_("该心愿不在本批次中")]})
    if wish.status == WishStatus.PUBLISHED:
        return _move(
            wish, WishStatus.APPROVED, actor=actor, note=_("移出批次"), batch=None, number=0
        )
    if wish.status == WishStatus.APPROVED:
        Wish.objects.filter(pk=wish.pk, status=WishStatus.APPROVED).update(batch=None, number=0)
        wish.refresh_from_db()
        _record(wish, actor=actor, before=wish.status, note=_("移出批次"))
        return wish
    raise ValidationError({"wish": [_("心愿已被认领，不能移出批次；可退回认领后再移出")]})


@transaction.atomic
def batch_publish(*, actor: User, batch: WishBatch) -> WishBatch:
    """The claim page opens: every wish of the batch is published."""
    if batch.status != BatchStatus.DRAFT:
        raise ValidationError({"status": [_("批次已发布过")]})
    if batch.deliver_by < timezone.localdate():
        raise ValidationError({"deliver_by": [_("送达截止日期已过，请先修改")]})
    wishes = list(Wish.objects.filter(batch=batch, status=WishStatus.APPROVED).order_by("number"))
    if not wishes:
        raise ValidationError({"wishes": [_("批次里还没有心愿")]})
    changed = WishBatch.objects.filter(pk=batch.pk, status=BatchStatus.DRAFT).update(
        status=BatchStatus.PUBLISHED, published_at=timezone.now(), published_by=actor
    )
    if not changed:
        raise ValidationError({"status": [_("批次已发布过")]})
    batch.refresh_from_db()
    for wish in wishes:
        _move(wish, WishStatus.PUBLISHED, actor=actor, note=_("随批次发布"))
    return batch


@transaction.atomic
def batch_close(*, actor: User, batch: WishBatch) -> WishBatch:
    """Claiming ends. Wishes nobody claimed go back to approved, for a later batch; claimed
    ones stay with their claimers until delivered."""
    changed = WishBatch.objects.filter(pk=batch.pk, status=BatchStatus.PUBLISHED).update(
        status=BatchStatus.CLOSED, closed_at=timezone.now(), closed_by=actor
    )
    if not changed:
        raise ValidationError({"status": [_("只有认领中的批次可以结束")]})
    batch.refresh_from_db()
    for wish in Wish.objects.filter(batch=batch, status=WishStatus.PUBLISHED):
        _move(
            wish,
            WishStatus.APPROVED,
            actor=actor,
            note=_("批次结束，无人认领"),
            batch=None,
            number=0,
        )
    return batch


# --- claiming ---------------------------------------------------------------------------


@dataclass
class ClaimInput:
    name: str
    phone: str
    work_unit: str
    kind: str = ClaimerKind.PARTY_MEMBER


@dataclass(frozen=True)
class Claimed:
    claim: WishClaim
    token: str  # shown once (and sent by SMS): the claimer's key to their claim


def _check_claim(data: ClaimInput) -> tuple[Errors, str]:
    errors: Errors = {}
    if not data.name.strip():
        errors["name"] = [_("请填写姓名")]
    elif len(data.name.strip()) > 32:
        errors["name"] = [_("姓名不能超过 32 个字")]
    phone = check_mobile(data.phone)
    if not data.phone.strip():
        errors["phone"] = [_("请填写手机号")]
    elif phone.errors:
        errors["phone"] = phone.errors
    if not data.work_unit.strip():
        errors["work_unit"] = [_("请填写工作单位")]
    elif len(data.work_unit.strip()) > 100:
        errors["work_unit"] = [_("工作单位不能超过 100 个字")]
    if data.kind not in ClaimerKind.values:
        errors["kind"] = [_("请选择身份：在职党员或志愿者")]
    return errors, phone.value


def _claimer_for(batch: WishBatch, data: ClaimInput, phone: str) -> Claimer:
    """The batch's claimer with this phone, made on their first claim. Two first claims
    from one phone at once: the unique constraint lets one insert, the other finds it."""
    index = claimer_phone_index(phone)
    found = Claimer.objects.filter(batch=batch, phone_index=index).first()
    if found is None:
        claimer = Claimer(
            batch=batch,
            name=data.name.strip(),
            work_unit=data.work_unit.strip(),
            kind=data.kind,
        )
        claimer.set_phone(phone)
        try:
            with transaction.atomic():
                claimer.save()
            return claimer
        except IntegrityError:
            found = Claimer.objects.filter(batch=batch, phone_index=index).first()
            if found is None:
                raise
    # Latest spelling of their name and unit wins (people fix typos on a second claim).
    Claimer.objects.filter(pk=found.pk).update(
        name=data.name.strip(), work_unit=data.work_unit.strip(), kind=data.kind
    )
    found.refresh_from_db()
    return found


@transaction.atomic
def wish_claim(
    *,
    batch: WishBatch,
    wish_id: int,
    data: ClaimInput,
    actor: User | None = None,
    link_base: str = "",
) -> Claimed:
    """One person claims one wish of a published batch. Of many pressing at once, the one
    whose UPDATE still finds it published gets it; a person at the batch's limit is told so.

    `actor` is staff entering a claim phoned in (None from the public page); `link_base`
    is the absolute URL the claimer's token is appended to, for the message they get.
    """
    errors, phone = _check_claim(data)
    if errors:
        raise ValidationError(errors)
    with scopes_disabled():
        batch = WishBatch.objects.select_related("community").get(pk=batch.pk)
        if batch.status != BatchStatus.PUBLISHED:
            raise ValidationError({"wish": [_("这批心愿的认领已结束")]})
        if batch.deliver_by < timezone.localdate():
            raise ValidationError({"wish": [_("已过送达截止日期，认领已结束")]})
        wish = Wish.objects.filter(pk=wish_id, batch=batch).first()
        if wish is None:
            raise ValidationError({"wish": [_("本批次没有这个心愿")]})
        claimer = _claimer_for(batch, data, phone)
        limit = batch.per_claimer_limit
        counted = Claimer.objects.filter(pk=claimer.pk, claim_count__lt=limit).update(
            claim_count=F("claim_count") + 1
        )
        if not counted:
            raise ValidationError(
                {
                    "phone": [
                        _("每人最多认领 %(n)d 个心愿，这个手机号已认领 %(n)d 个") % {"n": limit}
                    ]
                }
            )
        now = timezone.now()
        taken = Wish.objects.filter(pk=wish.pk, status=WishStatus.PUBLISHED).update(
            status=WishStatus.CLAIMED, claimer=claimer, claimed_at=now
        )
        if not taken:
            # Raising rolls back the counter above with everything else.
            raise ValidationError({"wish": [_("这个心愿已被他人认领，请选择其他心愿")]})
        wish.refresh_from_db()
        token = new_claim_token()
        claim = WishClaim.objects.create(
            wish=wish,
            claimer=claimer,
            token_digest=token_digest(token),
            claimed_at=now,
            claimed_by=actor,
        )
        note = _("%(name)s（%(unit)s）认领") % {
            "name": claimer.masked_name,
            "unit": claimer.work_unit,
        }
        _record(wish, actor=actor, before=WishStatus.PUBLISHED, note=note)
        _tell_claimer(
            claimer,
            kind="wish.claimed",
            body=_claimed_message(wish, batch, link_base + token if link_base else ""),
            actor=actor,
        )
    return Claimed(claim=claim, token=token)


@in_default_language
def _claimed_message(wish: Wish, batch: WishBatch, link: str) -> str:
    body = _("【邻里】您已认领%(community)s微心愿“%(wish)s”，请于%(date)s前送达。") % {
        "community": batch.community.name,
        "wish": wish.label,
        "date": formats.date_format(batch.deliver_by, "Y-m-d"),
    }
    if link:
        body += _("查看或退回：%(link)s") % {"link": link}
    return body


def _tell_claimer(claimer: Claimer, *, kind: str, body: str, actor: User | None) -> None:
    if claimer.phone:
        message_send(
            kind=kind,
            body=body,
            to_phone=claimer.phone,
            community_id=claimer.batch.community_id,
            actor=actor,
        )


def _live_claim(wish: Wish) -> WishClaim | None:
    claim: WishClaim | None = (
        WishClaim.objects.select_related("claimer__batch")
        .filter(wish_id=wish.pk, released_at__isnull=True)
        .first()
    )
    return claim


def _end_claim(claim: WishClaim, *, actor: User | None, reason: str) -> None:
    ended = WishClaim.objects.filter(pk=claim.pk, released_at__isnull=True).update(
        released_at=timezone.now(), released_by=actor, release_reason=reason[:200]
    )
    if not ended:
        raise ValidationError({"claim": [_("这条认领已经退回过了")]})
    Claimer.objects.filter(pk=claim.claimer_id).update(claim_count=F("claim_count") - 1)


def _release(claim: WishClaim, *, actor: User | None, reason: str) -> Wish:
    wish = Wish.objects.select_related("batch", "task_stop__task").get(pk=claim.wish_id)
    if claim.released_at is not None:
        raise ValidationError({"claim": [_("这条认领已经退回过了")]})
    if wish.status != WishStatus.CLAIMED or wish.claimer_id != claim.claimer_id:
        raise ValidationError(
            {"claim": [_("心愿已%(status)s，不能退回") % {"status": wish.get_status_display()}]}
        )
    if _door_delivery_pending(wish):
        raise ValidationError({"claim": [_("已安排志愿者上门配送，请先取消配送任务再退回")]})
    batch = wish.batch
    still_open = batch is not None and batch.status == BatchStatus.PUBLISHED
    _end_claim(claim, actor=actor, reason=reason)
    return _move(
        wish,
        WishStatus.PUBLISHED if still_open else WishStatus.APPROVED,
        actor=actor,
        note=reason or _("认领人退回"),
        claimer=None,
        claimed_at=None,
        delivery_mode="",
        task_stop=None,
        **({} if still_open else {"batch": None, "number": 0}),
    )


@transaction.atomic
def claim_release_by_token(*, token: str, reason: str = "") -> Wish:
    """The claimer gives the wish back through their link: it is open to others again."""
    with scopes_disabled():
        claim = WishClaim.objects.filter(token_digest=token_digest(token)).first()
        if claim is None:
            raise ValidationError({"token": [_("没有找到这条认领记录，请核对链接")]})
        return _release(claim, actor=None, reason=reason.strip() or _("认领人自行退回"))


@transaction.atomic
def claim_release(*, actor: User, wish: Wish, reason: str) -> Wish:
    """Staff take a claim off someone (they cannot deliver after all): it is open again."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写退回原因")]})
    claim = _live_claim(wish)
    if claim is None:
        raise ValidationError({"status": [_("这个心愿没有人认领")]})
    released = _release(claim, actor=actor, reason=reason)
    _tell_claimer(
        claim.claimer,
        kind="wish.released",
        body=_released_message(released, reason),
        actor=actor,
    )
    return released


@in_default_language
def _released_message(wish: Wish, reason: str) -> str:
    return _("【邻里】您认领的微心愿“%(wish)s”已由社区退回（%(reason)s）。") % {
        "wish": str(wish),
        "reason": reason,
    }


def claimer_reveal(*, actor: User, claimer: Claimer, reason: str) -> str:
    """A claimer's phone in full (to call about a delivery), with an audit record."""
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("请填写查看原因")]})
    LogEntry.objects.log_create(
        claimer,
        action=LogEntry.Action.ACCESS,
        changes={},
        actor=actor,
        additional_data={"field": "phone", "reason": reason[:200]},
        force_log=True,
    )
    phone: str = claimer.phone or ""
    return phone


# --- fulfilment -------------------------------------------------------------------------


def _door_delivery_pending(wish: Wish) -> bool:
    stop = wish.task_stop
    if stop is None:
        return False
    return stop.status == StopStatus.PENDING and stop.task.status not in (
        TaskStatus.CANCELLED,
        TaskStatus.FAILED,
    )


@transaction.atomic
def wish_receive(
    *, actor: User, wish: Wish, note: str = "", photo: UploadedFile | None = None
) -> Wish:
    """The claimer brought the gift to the service centre; staff took it in for the
    household (who collect it there)."""
    if wish.status == WishStatus.CLAIMED and _door_delivery_pending(wish):
        raise ValidationError({"status": [_("已安排志愿者上门配送，请在任务中登记送达")]})
    wish = _move(
        wish,
        WishStatus.FULFILLED,
        actor=actor,
        note=note.strip() or _("礼物已送到社区服务中心"),
        delivery_mode=DeliveryMode.CENTRE,
        fulfilled_at=timezone.now(),
        fulfilled_by=actor,
        proof_note=note.strip()[:200],
    )
    if photo is not None:
        wish.proof_photo = photo
        wish.save(update_fields=["proof_photo"])
    return wish


@transaction.atomic
def wish_send_to_door(*, actor: User, wishes: Sequence[Wish], description: str = "") -> Task:
    """A wish delivery on the task board: one door (the household), the gifts as its items.
    The volunteer who takes it hands them over with the household's code, or leaves them at
    the door with a photo; the wishes are then fulfilled (see wishes_settle)."""
    if not wishes:
        raise ValidationError({"wishes": [_("请选择要送上门的心愿")]})
    household_ids = {w.household_id for w in wishes}
    if len(household_ids) != 1:
        raise ValidationError({"wishes": [_("一次只能把同一户的心愿送上门")]})
    for wish in wishes:
        if wish.status != WishStatus.CLAIMED:
            raise ValidationError(
                {
                    "wishes": [
                        _("%(wish)s 当前为“%(status)s”，只有已认领的心愿可以安排上门")
                        % {"wish": wish, "status": wish.get_status_display()}
                    ]
                }
            )
        if _door_delivery_pending(wish):
            raise ValidationError({"wishes": [_("%(wish)s 已安排上门配送") % {"wish": wish}]})
    first = wishes[0]
    with scopes_disabled():
        household = Household.objects.select_related("unit__building__compound").get(
            pk=first.household_id
        )
    items = "、".join(w.label for w in wishes)
    batch = first.batch
    task = workforce.task_create(
        actor=actor,
        community=first.community,
        kind=TaskKind.WISH_DELIVERY,
        title=_("微心愿配送：%(batch)s") % {"batch": batch.title if batch else _("微心愿")},
        description=description.strip()
        or _("礼物在社区服务中心，领取后送到户，收货码由住户告知。"),
        stops=[workforce.StopInput(household=household, items=items[:300])],
    )
    stop = TaskStop.objects.get(task=task)
    for wish in wishes:
        Wish.objects.filter(pk=wish.pk).update(delivery_mode=DeliveryMode.DOOR, task_stop=stop)
        wish.refresh_from_db()
        _record(
            wish,
            actor=actor,
            before=wish.status,
            note=_("安排上门配送（任务 %(id)d）") % {"id": task.pk},
        )
    return task


DONE_AT_DOOR = (StopStatus.DELIVERED, StopStatus.LEFT_AT_DOOR)


@transaction.atomic
def wishes_settle(*, community_ids: Sequence[int] | None = None) -> int:
    """Claimed wishes whose door delivery is done become fulfilled, credited to whoever
    delivered, at the time they did. The task board does not know about wishes (arrows run
    one way), so this runs whenever wishes are read by staff, the API or the CLI."""
    with scopes_disabled():
        done = Wish.objects.filter(
            status=WishStatus.CLAIMED,
            delivery_mode=DeliveryMode.DOOR,
            task_stop__status__in=DONE_AT_DOOR,
        ).select_related("task_stop")
        if community_ids is not None:
            done = done.filter(community_id__in=community_ids)
        settled = 0
        for wish in done:
            stop = wish.task_stop
            assert stop is not None  # noqa: S101 (filtered above)
            proof = stop.get_status_display()
            changed = Wish.objects.filter(pk=wish.pk, status=WishStatus.CLAIMED).update(
                status=WishStatus.FULFILLED,
                fulfilled_at=stop.done_at or timezone.now(),
                fulfilled_by=stop.done_by,
                proof_note=proof,
            )
            if changed:
                WishEvent.objects.create(
                    wish=wish,
                    actor=stop.done_by,
                    at=stop.done_at or timezone.now(),
                    from_status=WishStatus.CLAIMED,
                    to_status=WishStatus.FULFILLED,
                    note=_("上门送达：%(proof)s") % {"proof": proof},
                )
                settled += 1
    return settled


@transaction.atomic
def wish_thank(*, actor: User, wish: Wish, thanks: str) -> Wish:
    """The household's thanks, as staff or the grid worker heard it; the claimer is told."""
    thanks = thanks.strip()
    if not thanks:
        raise ValidationError({"thanks": [_("请填写受助家庭的感谢")]})
    if len(thanks) > 500:
        raise ValidationError({"thanks": [_("感谢的话不能超过 500 字")]})
    wish = _move(
        wish,
        WishStatus.THANKED,
        actor=actor,
        note=_("记录感谢"),
        thanks=thanks,
        thanked_at=timezone.now(),
    )
    if wish.claimer is not None:
        _tell_claimer(wish.claimer, kind="wish.thanked", body=_thanked_message(wish), actor=actor)
    return wish


@in_default_language
def _thanked_message(wish: Wish) -> str:
    return _("【邻里】您认领的微心愿“%(wish)s”已送到，受助家庭说：%(thanks)s") % {
        "wish": str(wish),
        "thanks": wish.thanks,
    }

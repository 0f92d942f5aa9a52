"""Demo medical exit passes for the first community of a tier: one for each of a few
dialysis and pregnant residents (today's trip), one expired and one revoked, and a check
of each at the gate. Deterministic (oldest residents first) and idempotent."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.passes import actions
from linli.passes.choices import VerifyVia
from linli.passes.models import MedicalPass
from linli.registry.choices import CareTag
from linli.registry.models import Resident
from linli.workforce.seed import tier_communities

DESTINATIONS = {
    CareTag.DIALYSIS: ("dialysis", "瑞金医院血透室"),
    CareTag.PREGNANT: ("prenatal", "国际和平妇幼保健院"),
}


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> dict[str, int]:
    with scopes_disabled():
        communities = tier_communities(tier)
        if not communities:
            return {}
        community = communities[0]
        if MedicalPass.objects.filter(community=community).exists():
            if stdout is not None:
                stdout.write(_("外出就医证明的演示数据已经存在，未重复生成。"))
            return {}
        issuer = (
            User.objects.filter(role=Role.COMMUNITY_STAFF, area__community=community).first()
            or User.objects.filter(is_superuser=True).first()
        )
        keeper = User.objects.filter(role=Role.CHECKPOINT_KEEPER, area__community=community).first()
        if issuer is None:
            return {}
        count = 0
        start = timezone.now().replace(minute=0, second=0, microsecond=0)
        with transaction.atomic():
            for tag, (reason, destination) in DESTINATIONS.items():
                residents = (
                    Resident.objects.filter(household__community=community, care_tags__tag=tag)
                    .select_related("household")
                    .order_by("birth_date", "pk")[:3]
                )
                for n, resident in enumerate(residents):
                    issued = actions.pass_issue(
                        actor=issuer,
                        data=actions.PassInput(
                            resident=resident,
                            reason=reason,
                            destination=destination,
                            valid_from=start,
                            valid_until=start + dt.timedelta(hours=12),
                            companion_name=_("家属"),
                        ),
                    )
                    if n == 1:
                        # One pass of three days ago, expired by now (the action refuses to
                        # issue one that ends in the past, so it is moved back in time).
                        ago = dt.timedelta(days=3)
                        MedicalPass.objects.filter(pk=issued.pk).update(
                            valid_from=start - ago, valid_until=start - ago + dt.timedelta(hours=12)
                        )
                        issued.refresh_from_db()
                    if n == 2:
                        actions.pass_revoke(actor=issuer, medical_pass=issued, reason=_("行程取消"))
                    if keeper is not None:
                        actions.pass_verify(actor=keeper, presented=issued.code, via=VerifyVia.CODE)
                    count += 1
    if stdout is not None:
        stdout.write(_("已生成外出就医证明 %(n)d 张。") % {"n": count})
    return {"passes": count}

"""`linli meals …`: the policy, who it covers, applications, enrolments, the day's list
(with its PDF and delivery tasks), meals delivered or missed, and the figures."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.test import RequestFactory
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    community_for,
    format_fields,
    parse_date,
    positive_int,
    require,
    rows_by_ids,
)
from linli.lib.pdf import render_pdf
from linli.meals import access, actions
from linli.meals.api import figures_range
from linli.meals.choices import ApplicationStatus, DeliveryStatus, Diet, Meal
from linli.meals.daily import daily_list, title
from linli.meals.eligibility import eligible_residents, enrolled_on, explain
from linli.meals.figures import meal_figures
from linli.meals.models import MealPolicy
from linli.registry.access import get_resident_for
from linli.registry.choices import CareTag
from linli.registry.models import Resident


def _manager(actor: User) -> None:
    require(access.can_manage_meals(actor), _("只有社区工作人员和街道可以管理爱心餐"))


def _reader(actor: User) -> None:
    require(access.can_see_meals(actor), _("您的角色无权查看爱心餐"))


def _recorder(actor: User) -> None:
    require(access.can_record_meals(actor), _("您的角色无权登记送餐"))


# An option not given keeps what the policy has (None would mean "switch the rule off").
KEEP = object()


def _off_or_int(text: str) -> int | None:
    if text.lower() in ("off", "none", "无"):
        return None
    return positive_int(text)


class Command(SubcommandCommand):
    help = "爱心餐：资格规则、符合条件名单、申请、登记用餐、每日名单与送餐任务、送达登记、统计。"

    def add_subcommands(self) -> None:
        policy = self.subcommand(
            "policy", _("查看资格规则；带 --set 等选项时修改（须 --actor）"), write=False
        )
        policy.add_argument("--community", help=_("社区编码"))
        policy.add_argument("--set", action="store_true", help=_("修改规则"))
        policy.add_argument(
            "--min-age", type=_off_or_int, default=KEEP, help=_("年满 N 周岁；off 关闭")
        )
        policy.add_argument(
            "--min-ltc", type=_off_or_int, default=KEEP, help=_("长护险等级 ≥ M；off 关闭")
        )
        policy.add_argument("--tags", nargs="*", default=None, choices=CareTag.values)
        policy.add_argument(
            "--applications", choices=["yes", "no"], help=_("审核通过的申请是否符合")
        )

        eligible = self.subcommand("eligible", _("符合条件的居民及原因"), write=False)
        eligible.add_argument("--community", help=_("社区编码"))
        eligible.add_argument("--day", help=_("日期，默认今天"))
        eligible.add_argument("--not-enrolled", action="store_true", help=_("只列未登记用餐的"))

        apply = self.subcommand("apply", _("登记申请"), write=True)
        apply.add_argument("resident", help=_("居民 id"))
        apply.add_argument("--applicant", required=True, help=_("申请人：本人或代为申请者"))
        apply.add_argument("--reason", required=True)

        decide = self.subcommand("decide", _("审核申请"), write=True)
        decide.add_argument("application", help=_("申请 id"))
        decide.add_argument(
            "status",
            choices=[ApplicationStatus.APPROVED, ApplicationStatus.DECLINED, "withdrawn"],
        )
        decide.add_argument("--reason", default="")

        canteen = self.subcommand("canteen", _("列出助餐点；带 --name 时新建"), write=False)
        canteen.add_argument("--community", help=_("社区编码"))
        canteen.add_argument("--name")
        canteen.add_argument("--capacity", type=positive_int, default=100)
        canteen.add_argument("--address", default="")

        enrol = self.subcommand("enrol", _("登记用餐"), write=True)
        enrol.add_argument("resident", help=_("居民 id"))
        enrol.add_argument("--canteen", required=True, help=_("助餐点 id"))
        enrol.add_argument(
            "--meals", nargs="+", choices=Meal.values, default=[Meal.LUNCH], help=_("餐次")
        )
        enrol.add_argument("--diet", nargs="*", default=[], choices=Diet.values)
        enrol.add_argument("--notes", default="", help=_("饮食备注"))
        enrol.add_argument("--starts-on", help=_("开始日期，默认今天"))
        enrol.add_argument("--ends-on", help=_("结束日期，默认长期"))

        end = self.subcommand("end", _("结束用餐"), write=True)
        end.add_argument("enrolment", help=_("登记 id"))
        end.add_argument("--ends-on", help=_("最后用餐日期，默认今天"))
        end.add_argument("--reason", required=True)

        daily = self.subcommand("daily", _("某助餐点某天的名单和按饮食统计"), write=False)
        daily.add_argument("canteen", help=_("助餐点 id"))
        daily.add_argument("--day", help=_("日期，默认今天"))
        daily.add_argument("--pdf", help=_("另存为 PDF 文件"))
        daily.add_argument(
            "--tasks", choices=Meal.values, help=_("按楼栋发布这一餐的送餐任务（须 --actor）")
        )

        deliver = self.subcommand("deliver", _("登记一餐已送达或未送达"), write=True)
        deliver.add_argument("enrolment", help=_("登记 id"))
        deliver.add_argument("--meal", choices=Meal.values, default=Meal.LUNCH)
        deliver.add_argument("--day", help=_("日期，默认今天"))
        deliver.add_argument("--missed", action="store_true", help=_("未送达（须填 --reason）"))
        deliver.add_argument("--reason", default="")

        figures = self.subcommand("figures", _("每日送餐数与送达人数"), write=False)
        figures.add_argument("--since")
        figures.add_argument("--until")

    # --- policy and who it covers -------------------------------------------------------

    def do_policy(self, actor: User, options: Options) -> None:
        _reader(actor)
        if options["set"]:
            if actor.pk is None:
                raise CommandError(_("请用 --actor 指定操作账号（用户名）"))
            _manager(actor)
            community = community_for(actor, options["community"])
            old = MealPolicy.objects.filter(community=community).first() or MealPolicy()
            given = options
            policy = actions.policy_save(
                actor=actor,
                community=community,
                data=actions.PolicyInput(
                    min_age=old.min_age if given["min_age"] is KEEP else given["min_age"],
                    min_ltc_level=(
                        old.min_ltc_level if given["min_ltc"] is KEEP else given["min_ltc"]
                    ),
                    care_tags=given["tags"] if given["tags"] is not None else old.care_tags,
                    approved_applications=(
                        given["applications"] == "yes"
                        if given["applications"]
                        else (old.approved_applications if old.pk else True)
                    ),
                ),
            )
            self.done(_("已保存：%(summary)s") % {"summary": policy.summary()})
            return
        policies = access.visible_policies(actor).order_by("community__code")
        if options["community"]:
            policies = policies.filter(community=community_for(actor, options["community"]))
        self.table(
            [_("社区"), _("规则（任一条件满足即可）")],
            [(p.community.name, p.summary()) for p in policies],
        )

    def do_eligible(self, actor: User, options: Options) -> None:
        _reader(actor)
        day = parse_date(options["day"], "--day")
        policies = list(access.visible_policies(actor))
        residents = Resident.objects.all()
        if options["community"]:
            residents = residents.filter(
                household__community=community_for(actor, options["community"])
            )
        found = eligible_residents(residents, policies, day)
        if options["not_enrolled"]:
            found = found.exclude(enrolled_on(day))
        rows = explain(found.order_by("household__address", "pk"), policies, day)
        self.table(
            ["id", _("姓名"), _("地址"), _("年龄"), _("原因"), _("已登记")],
            [
                (
                    r.resident_id,
                    r.name,
                    r.address,
                    r.age,
                    "、".join(r.reasons),
                    "✓" if r.enrolled else "",
                )
                for r in rows
            ],
        )
        count = len(rows)
        self.stdout.write(ngettext("共 %(n)s 人", "共 %(n)s 人", count) % {"n": count})

    # --- applications, canteens, enrolments ---------------------------------------------

    def do_apply(self, actor: User, options: Options) -> None:
        _reader(actor)
        resident = get_resident_for(actor, options["resident"])
        application = actions.application_create(
            actor=actor, resident=resident, applicant=options["applicant"], reason=options["reason"]
        )
        self.done(_("已登记申请 #%(id)s") % {"id": application.pk})

    def do_decide(self, actor: User, options: Options) -> None:
        _manager(actor)
        application = access.get_application_for(actor, options["application"])
        actions.application_decide(
            actor=actor, application=application, status=options["status"], reason=options["reason"]
        )
        self.done(
            _("申请 #%(id)s：%(status)s")
            % {"id": application.pk, "status": application.get_status_display()}
        )

    def do_canteen(self, actor: User, options: Options) -> None:
        _reader(actor)
        if options["name"]:
            if actor.pk is None:
                raise CommandError(_("请用 --actor 指定操作账号（用户名）"))
            _manager(actor)
            canteen = actions.canteen_save(
                actor=actor,
                community=community_for(actor, options["community"]),
                name=options["name"],
                capacity=options["capacity"],
                address=options["address"],
            )
            self.done(
                _("已新建助餐点 %(name)s（id %(id)s）") % {"name": canteen.name, "id": canteen.pk}
            )
            return
        self.table(
            ["id", _("助餐点"), _("社区"), _("每餐份数"), _("在用")],
            [
                (c.pk, c.name, c.community.name, c.capacity, "✓" if c.is_active else "")
                for c in access.visible_canteens(actor).order_by("community__code", "name")
            ],
        )

    def do_enrol(self, actor: User, options: Options) -> None:
        _manager(actor)
        resident = get_resident_for(actor, options["resident"])
        canteen = rows_by_ids(access.visible_canteens(actor), [options["canteen"]], _("助餐点"))[0]
        enrolment = actions.enrolment_create(
            actor=actor,
            resident=resident,
            data=actions.EnrolmentInput(
                canteen=canteen,
                starts_on=parse_date(options["starts_on"], "--starts-on"),
                ends_on=parse_date(options["ends_on"], "--ends-on") if options["ends_on"] else None,
                lunch=Meal.LUNCH in options["meals"],
                dinner=Meal.DINNER in options["meals"],
                diets=options["diet"],
                diet_notes=options["notes"],
            ),
        )
        self.done(
            _("%(name)s 已登记爱心餐（登记 id %(id)s）")
            % {"name": resident.name, "id": enrolment.pk}
        )

    def do_end(self, actor: User, options: Options) -> None:
        _manager(actor)
        enrolment = access.get_enrolment_for(actor, options["enrolment"])
        actions.enrolment_end(
            actor=actor,
            enrolment=enrolment,
            ends_on=parse_date(options["ends_on"], "--ends-on"),
            reason=options["reason"],
        )
        self.done(_("已结束：最后用餐日 %(day)s") % {"day": enrolment.ends_on})

    # --- the day ------------------------------------------------------------------------

    def do_daily(self, actor: User, options: Options) -> None:
        _reader(actor)
        canteen = rows_by_ids(access.visible_canteens(actor), [options["canteen"]], _("助餐点"))[0]
        day = parse_date(options["day"], "--day")
        if options["tasks"]:
            if actor.pk is None:
                raise CommandError(_("请用 --actor 指定操作账号（用户名）"))
            _recorder(actor)
            created = actions.delivery_tasks_create(
                actor=actor, canteen=canteen, day=day, meal=options["tasks"]
            )
            self.done(
                _("已发布送餐任务 %(n)s 个：%(ids)s")
                % {"n": len(created), "ids": "、".join(str(link.task_id) for link in created)}
            )
            return
        listed = daily_list(canteen, day)
        self.stdout.write(title(listed))
        self.stdout.write(format_fields([(_("午餐"), listed.lunch), (_("晚餐"), listed.dinner)]))
        self.table(
            [_("饮食"), _("午餐"), _("晚餐")], [(c.label, c.lunch, c.dinner) for c in listed.counts]
        )
        self.table(
            [_("小区"), _("午餐"), _("晚餐")],
            [(g.name, g.lunch, g.dinner) for g in listed.compounds],
        )
        self.table(
            [_("登记 id"), _("地址"), _("姓名"), _("餐次"), _("饮食"), _("午餐"), _("晚餐")],
            [
                (
                    r.enrolment.pk,
                    r.address,
                    r.resident.name,
                    r.meals_label,
                    r.diet_label,
                    r.lunch_outcome.get_status_display() if r.lunch_outcome else "",
                    r.dinner_outcome.get_status_display() if r.dinner_outcome else "",
                )
                for r in listed.rows
            ],
        )
        if options["pdf"]:
            request = RequestFactory().get("/")
            pdf = render_pdf(
                request, "meals/pdf/daily.html", {"listed": listed, "title": title(listed)}
            )
            Path(options["pdf"]).write_bytes(pdf)
            self.done(_("已保存 %(path)s") % {"path": options["pdf"]})

    def do_deliver(self, actor: User, options: Options) -> None:
        _recorder(actor)
        enrolment = access.get_enrolment_for(actor, options["enrolment"])
        delivery = actions.delivery_record(
            actor=actor,
            enrolment=enrolment,
            day=parse_date(options["day"], "--day"),
            meal=options["meal"],
            status=DeliveryStatus.MISSED if options["missed"] else DeliveryStatus.DELIVERED,
            reason=options["reason"],
        )
        message = _("%(name)s %(day)s %(meal)s：%(status)s") % {
            "name": enrolment.resident.name,
            "day": delivery.day,
            "meal": delivery.get_meal_display(),
            "status": delivery.get_status_display(),
        }
        if delivery.check_in_id:
            message += _("（已请网格员回访，回访 id %(id)s）") % {"id": delivery.check_in_id}
        self.done(message)

    def do_figures(self, actor: User, options: Options) -> None:
        _reader(actor)
        since, until = figures_range(
            parse_date(options["since"], "--since") if options["since"] else None,
            parse_date(options["until"], "--until") if options["until"] else None,
        )
        found = meal_figures(
            access.visible_enrolments(actor), access.visible_deliveries(actor), since, until
        )
        self.stdout.write(
            format_fields(
                [
                    (_("统计区间"), f"{since} — {until}"),
                    (_("送达人数"), found.people_served),
                    (_("登记人数"), found.enrolled),
                    (_("已送达餐数"), found.delivered),
                    (_("未送达餐数"), found.missed),
                ]
            )
        )
        self.table(
            [_("日期"), _("应送午餐"), _("应送晚餐"), _("已送达"), _("未送达")],
            [(d.day, d.planned_lunch, d.planned_dinner, d.delivered, d.missed) for d in found.days],
        )

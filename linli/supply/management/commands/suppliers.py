"""`linli suppliers …`: suppliers (保供单位) and their packages from the command line."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import Options, SubcommandCommand, format_fields, require
from linli.lib.money import fen_to_yuan, grams_to_kg
from linli.registry.models import Community, Street
from linli.supply import access, actions
from linli.supply.choices import Category, SupplierKind
from linli.supply.forms import fen_from_text, grams_from_text


def _keeper(actor: User) -> None:
    require(access.can_manage_suppliers(actor), _("只有街道保供专班可以管理保供单位"))


class Command(SubcommandCommand):
    help = "保供单位：列表、详情、新建、添加套餐包。"

    def add_subcommands(self) -> None:
        self.subcommand("list", _("列出保供单位"), write=False)
        show = self.subcommand("show", _("查看保供单位及其套餐包"), write=False)
        show.add_argument("id", help=_("保供单位 id"))

        create = self.subcommand("create", _("新建保供单位"), write=True)
        create.add_argument("--name", required=True)
        create.add_argument("--kind", required=True, choices=SupplierKind.values)
        create.add_argument("--contact-name", default="")
        create.add_argument("--contact-phone", default="")
        create.add_argument("--community", nargs="+", default=[], help=_("服务社区编码"))
        create.add_argument("--account", nargs="+", default=[], help=_("单位账号（用户名）"))
        create.add_argument("--street", help=_("街道编码（管辖多个街道时必填）"))

        package = self.subcommand("add-package", _("为保供单位添加套餐包"), write=True)
        package.add_argument("supplier", help=_("保供单位 id"))
        package.add_argument("--name", required=True)
        package.add_argument("--category", required=True, choices=Category.values)
        package.add_argument(
            "--weight", required=True, help=_("净重，例：5kg、500g（不写单位按千克）")
        )
        package.add_argument("--price", required=True, help=_("价格（元），例：48.50"))
        package.add_argument("--contents", default="", help=_("内容"))

    def do_list(self, actor: User, options: Options) -> None:
        suppliers = access.visible_suppliers(actor).prefetch_related("communities")
        self.table(
            ("ID", _("名称"), _("类型"), _("联系人"), _("联系电话"), _("服务社区"), _("状态")),
            [
                (
                    s.pk,
                    s.name,
                    s.get_kind_display(),
                    s.contact_name,
                    s.masked_contact_phone,
                    "、".join(c.name for c in s.communities.all()) or _("全街道"),
                    _("在供") if s.active else _("停供"),
                )
                for s in suppliers.order_by("name")
            ],
        )

    def do_show(self, actor: User, options: Options) -> None:
        supplier = access.get_supplier_for(actor, options["id"])
        self.stdout.write(
            format_fields(
                [
                    ("ID", supplier.pk),
                    (_("名称"), supplier.name),
                    (_("类型"), supplier.get_kind_display()),
                    (_("联系人"), supplier.contact_name),
                    (_("联系电话"), supplier.masked_contact_phone),
                    (
                        _("服务社区"),
                        "、".join(c.name for c in supplier.communities.all()) or _("全街道"),
                    ),
                    (_("单位账号"), "、".join(u.username for u in supplier.accounts.all())),
                ]
            )
        )
        self.stdout.write("")
        self.table(
            ("ID", _("套餐包"), _("品类"), _("净重"), _("价格"), _("状态")),
            [
                (
                    p.pk,
                    p.name,
                    p.get_category_display(),
                    grams_to_kg(p.net_weight_g),
                    fen_to_yuan(p.price_fen),
                    _("在售") if p.active else _("下架"),
                )
                for p in supplier.packages.order_by("category", "name")
            ],
        )

    def do_create(self, actor: User, options: Options) -> None:
        _keeper(actor)
        streets = Street.objects.filter(pk__in=Community.objects.values("street_id"))
        if options["street"]:
            street = streets.filter(code=options["street"]).first()
        else:
            street = streets.first() if streets.count() == 1 else None
        if street is None:
            raise CommandError(_("请用 --street 指定街道编码（须在您的管辖范围内）"))
        communities = []
        for code in options["community"]:
            community = Community.objects.filter(code=code).first()
            if community is None:
                raise CommandError(
                    _("没有编码为 %(code)s 的社区，或不在您的管辖范围内") % {"code": code}
                )
            communities.append(community)
        accounts = []
        for name in options["account"]:
            account = User.objects.filter(username=name).first()
            if account is None:
                raise CommandError(_("没有账号 %(name)s") % {"name": name})
            accounts.append(account)
        supplier = actions.supplier_save(
            actor=actor,
            street_id=street.pk,
            data=actions.SupplierInput(
                name=options["name"],
                kind=options["kind"],
                contact_name=options["contact_name"],
                contact_phone=options["contact_phone"],
                communities=communities,
                accounts=accounts,
            ),
        )
        self.done(_("已新建保供单位 %(id)d：%(name)s") % {"id": supplier.pk, "name": supplier.name})

    def do_add_package(self, actor: User, options: Options) -> None:
        _keeper(actor)
        supplier = access.get_supplier_for(actor, options["supplier"])
        grams = grams_from_text(options["weight"], "kg")
        if grams is None:
            raise CommandError(_("--weight 应为重量，例：5kg、500g"))
        fen = fen_from_text(options["price"])
        if fen is None:
            raise CommandError(_("--price 应为以元计的数字，最多两位小数，例：48.50"))
        package = actions.package_save(
            actor=actor,
            supplier=supplier,
            data=actions.PackageInput(
                name=options["name"],
                category=options["category"],
                net_weight_g=grams,
                price_fen=fen,
                contents=options["contents"],
            ),
        )
        self.done(
            _("已添加套餐包 %(id)d：%(name)s（%(kg)s，%(price)s）")
            % {
                "id": package.pk,
                "name": package.name,
                "kg": grams_to_kg(package.net_weight_g),
                "price": fen_to_yuan(package.price_fen),
            }
        )

from __future__ import annotations

from django.urls import URLPattern, path

from linli.checkpoints.views import checkpoints, couriers, goods

app_name = "checkpoints"

urlpatterns: list[URLPattern] = [
    path("checkpoints/", checkpoints.checkpoint_list, name="checkpoint_list"),
    path(
        "compounds/<int:pk>/checkpoints/new/",
        checkpoints.checkpoint_new,
        name="checkpoint_new",
    ),
    path("checkpoints/<int:pk>/", checkpoints.checkpoint_detail, name="checkpoint_detail"),
    path("checkpoints/<int:pk>/edit/", checkpoints.checkpoint_edit, name="checkpoint_edit"),
    path("checkpoints/<int:pk>/shifts/new/", checkpoints.shift_new, name="shift_new"),
    path("checkpoints/<int:pk>/couriers/", couriers.courier_log, name="courier_log"),
    path("checkpoints/<int:pk>/goods/", goods.goods_list, name="goods_list"),
    path("goods/held/", goods.goods_held, name="goods_held"),
    path("goods/<int:pk>/disinfect/", goods.goods_disinfect, name="goods_disinfect"),
    path("goods/<int:pk>/release/", goods.goods_release, name="goods_release"),
]

from __future__ import annotations

from django.urls import URLPattern, path

from linli.wishes.views import batches, figures, public, wishes

app_name = "wishes"

urlpatterns: list[URLPattern] = [
    # --- public: the QR poster's page and the claimer's own link (views/public.py) ---
    path("w/<slug:code>/", public.batch_page, name="batch_page"),
    path("w/<slug:code>/<int:pk>/", public.claim, name="claim"),
    path("w/claims/<slug:token>/", public.my_claim, name="my_claim"),
    path("w/claims/<slug:token>/release/", public.my_claim_release, name="my_claim_release"),
    # --- staff (views/wishes.py, views/batches.py, views/figures.py) ---
    path("wishes/", wishes.wish_list, name="wish_list"),
    path("wishes/new/", wishes.wish_new, name="wish_new"),
    path("wishes/new/rooms/", wishes.wish_rooms, name="wish_rooms"),
    path("wishes/figures/", figures.figures, name="figures"),
    path("wishes/figures/export.xlsx", figures.figures_export, name="figures_export"),
    path("wishes/<int:pk>/", wishes.wish_detail, name="wish_detail"),
    path("wishes/<int:pk>/edit/", wishes.wish_edit, name="wish_edit"),
    path("wishes/<int:pk>/photo/<slug:which>", wishes.wish_photo, name="wish_photo"),
    path("wishes/<int:pk>/<slug:verb>/", wishes.wish_step, name="wish_step"),
    path("wish-batches/", batches.batch_list, name="batch_list"),
    path("wish-batches/new/", batches.batch_new, name="batch_new"),
    path("wish-batches/<int:pk>/", batches.batch_detail, name="batch_detail"),
    path("wish-batches/<int:pk>/edit/", batches.batch_edit, name="batch_edit"),
    path("wish-batches/<int:pk>/add/", batches.batch_add, name="batch_add"),
    path("wish-batches/<int:pk>/remove/<int:wish_pk>/", batches.batch_remove, name="batch_remove"),
    path("wish-batches/<int:pk>/publish/", batches.batch_publish, name="batch_publish"),
    path("wish-batches/<int:pk>/close/", batches.batch_close, name="batch_close"),
    path("wish-batches/<int:pk>/poster.pdf", batches.batch_poster, name="batch_poster"),
    path("wish-claimers/<int:pk>/reveal/", batches.claimer_reveal, name="claimer_reveal"),
]

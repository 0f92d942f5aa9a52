from __future__ import annotations

from django.urls import URLPattern, path

from linli.workforce.views import figures, mine, signup, tasks, teams, volunteers

app_name = "workforce"

urlpatterns: list[URLPattern] = [
    # --- volunteer side (views/signup.py, views/mine.py) ---
    path("join/<slug:code>/", signup.signup, name="signup"),
    path("join/<slug:code>/buildings/", signup.signup_buildings, name="signup_buildings"),
    path("join/<slug:code>/thanks/", signup.signup_thanks, name="signup_thanks"),
    path("volunteers/poster/<slug:code>.pdf", signup.poster, name="poster"),
    path("my/", mine.mine, name="mine"),
    path("my/test/", mine.mine_test, name="mine_test"),
    path("my/tasks/<int:pk>/", mine.mine_task, name="mine_task"),
    path("my/tasks/<int:pk>/<slug:verb>/", mine.mine_task_act, name="mine_task_act"),
    path("my/stops/<int:pk>/<slug:verb>/", mine.mine_stop_act, name="mine_stop_act"),
    # --- staff side (views/volunteers.py, views/teams.py, views/tasks.py, views/figures.py) ---
    path("volunteers/", volunteers.volunteer_list, name="volunteer_list"),
    path("volunteers/<int:pk>/", volunteers.volunteer_detail, name="volunteer_detail"),
    path("volunteers/<int:pk>/review/", volunteers.volunteer_review, name="volunteer_review"),
    path("volunteers/<int:pk>/reveal/", volunteers.volunteer_reveal, name="volunteer_reveal"),
    path(
        "communities/<str:code>/volunteer-rules/",
        volunteers.volunteer_rules,
        name="volunteer_rules",
    ),
    path("teams/", teams.team_list, name="team_list"),
    path("teams/new/", teams.team_new, name="team_new"),
    path("teams/<int:pk>/", teams.team_edit, name="team_edit"),
    path("tasks/", tasks.task_list, name="task_list"),
    path("tasks/new/", tasks.task_new, name="task_new"),
    path("tasks/new/households/", tasks.task_households, name="task_households"),
    path("tasks/figures/", figures.figures, name="figures"),
    path("tasks/figures/export.xlsx", figures.figures_export, name="figures_export"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task_detail"),
    path("tasks/<int:pk>/assign/", tasks.task_assign, name="task_assign"),
    path("tasks/<int:pk>/cancel/", tasks.task_cancel, name="task_cancel"),
    path("tasks/<int:pk>/reopen/", tasks.task_reopen, name="task_reopen"),
    path("tasks/<int:pk>/release/", tasks.task_release, name="task_release"),
    path("tasks/<int:pk>/minutes/", tasks.task_minutes, name="task_minutes"),
    path("tasks/<int:pk>/photo", tasks.task_photo, name="task_photo"),
    path("tasks/stops/<int:pk>/photo", tasks.stop_photo, name="stop_photo"),
]

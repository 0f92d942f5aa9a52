"""Staff pages for teams: list with members and hours, new, edit, and who may do what."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scopes_disabled

from linli.workforce import actions
from linli.workforce.choices import TeamKind, VolunteerStatus
from linli.workforce.models import Team
from linli.workforce.tests.test_volunteer_pages import StaffPagesTestCase


class TeamPagesTest(StaffPagesTestCase):
    def team(self, name: str = "1号卡口临时党支部", **fields: object) -> Team:
        with scopes_disabled():
            return actions.team_save(
                actor=self.carol,
                community=fields.pop("community", self.community),  # type: ignore[arg-type]
                name=name,
                kind=TeamKind.PARTY_BRANCH,
                **fields,  # type: ignore[arg-type]
            )

    def teams(self) -> list[Team]:
        with scopes_disabled():
            return list(Team.objects.prefetch_related("members", "buildings").order_by("pk"))

    def test_it_creates_a_team_with_leader_members_and_buildings(self) -> None:
        volunteer = self.make_volunteer()
        self.login(self.carol)
        new = reverse("workforce:team_new")
        page = self.client.get(new)
        self.assertContains(page, volunteer.name)
        response = self.client.post(
            new,
            {
                "name": "1号卡口临时党支部",
                "kind": TeamKind.PARTY_BRANCH,
                "leader": self.carol.pk,
                "members": [volunteer.user.pk],
                "buildings": [self.unit1.building.pk],
            },
        )
        self.assertRedirects(response, reverse("workforce:team_list"))
        [team] = self.teams()
        self.assertEqual(team.community, self.community)
        self.assertEqual(team.leader, self.carol)
        self.assertEqual(set(team.members.all()), {self.carol, volunteer.user})
        self.assertEqual(list(team.buildings.all()), [self.unit1.building])

    def test_it_refuses_a_duplicate_name(self) -> None:
        self.team("志愿服务一队")
        self.login(self.carol)
        response = self.client.post(
            reverse("workforce:team_new"), {"name": "志愿服务一队", "kind": TeamKind.SERVICE_TEAM}
        )
        self.assertContains(response, "本社区已有同名队伍", status_code=400)
        self.assertEqual(len(self.teams()), 1)

    def test_it_refuses_a_volunteer_not_yet_verified(self) -> None:
        pending = self.make_volunteer("待审核者", status=VolunteerStatus.PENDING)
        self.login(self.carol)
        response = self.client.post(
            reverse("workforce:team_new"),
            {"name": "二队", "kind": TeamKind.SERVICE_TEAM, "members": [pending.user.pk]},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.teams(), [])

    def test_it_refuses_a_building_of_another_community(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            reverse("workforce:team_new"),
            {"name": "二队", "kind": TeamKind.SERVICE_TEAM, "buildings": [self.unit_b.building.pk]},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.teams(), [])

    def test_it_edits_a_team(self) -> None:
        one = self.make_volunteer("成员甲")
        two = self.make_volunteer("成员乙")
        team = self.team("一队", members=[one.user, two.user])
        self.team("二队")
        self.login(self.carol)
        url = reverse("workforce:team_edit", args=[team.pk])
        self.assertContains(self.client.get(url), "成员甲")
        response = self.client.post(
            url, {"name": "二队", "kind": TeamKind.SERVICE_TEAM, "members": [one.user.pk]}
        )
        self.assertContains(response, "本社区已有同名队伍", status_code=400)
        response = self.client.post(
            url,
            {"name": "一队（北门）", "kind": TeamKind.SERVICE_TEAM, "leader": one.user.pk},
        )
        self.assertRedirects(response, reverse("workforce:team_list"))
        team = self.teams()[0]
        self.assertEqual(team.name, "一队（北门）")
        self.assertEqual(team.kind, TeamKind.SERVICE_TEAM)
        self.assertEqual(set(team.members.all()), {one.user})

    def test_it_keeps_a_suspended_member_choosable_when_editing(self) -> None:
        one = self.make_volunteer("成员甲")
        team = self.team("一队", members=[one.user])
        with scopes_disabled():
            actions.volunteer_review(
                actor=self.carol, volunteer=one, status=VolunteerStatus.SUSPENDED, reason="请假"
            )
        self.login(self.carol)
        url = reverse("workforce:team_edit", args=[team.pk])
        response = self.client.post(
            url, {"name": "一队", "kind": TeamKind.PARTY_BRANCH, "members": [one.user.pk]}
        )
        self.assertRedirects(response, reverse("workforce:team_list"))
        self.assertEqual(set(self.teams()[0].members.all()), {one.user})

    def test_it_lists_teams_with_member_count_and_hours(self) -> None:
        volunteer = self.make_volunteer()
        team = self.team("一队", members=[volunteer.user], leader=self.alice)
        task = self.make_task()
        with scopes_disabled():
            actions.task_assign(actor=self.carol, task=task, volunteer=volunteer)
            actions.task_accept(actor=volunteer.user, task=task)
            actions.task_start(actor=volunteer.user, task=task)
            actions.task_finish(actor=volunteer.user, task=task)
            actions.task_set_minutes(actor=self.carol, task=task, minutes=150)
        self.login(self.alice)
        response = self.client.get(reverse("workforce:team_list"))
        self.assertEqual(response.status_code, 200)
        row = response.content.decode().split(f'id="team-{team.pk}"')[1].split("</tr>")[0]
        self.assertIn('class="member-count">2<', row)
        self.assertIn("2.5 小时", row)
        self.assertNotIn(reverse("workforce:team_edit", args=[team.pk]), row)

    def test_it_lets_only_managers_create_and_edit(self) -> None:
        team = self.team()
        for user in (self.alice, self.olivia):
            self.login(user)
            self.assertEqual(self.client.get(reverse("workforce:team_new")).status_code, 403)
            url = reverse("workforce:team_edit", args=[team.pk])
            self.assertEqual(self.client.post(url, {"name": "改名"}).status_code, 403)
        for user in (self.kate, self.victor, self.sam, self.rita_user, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get(reverse("workforce:team_list")).status_code, 403)
        self.assertEqual(self.teams()[0].name, team.name)

    def test_it_keeps_other_communities_teams_out(self) -> None:
        elsewhere = self.team("星河一队", community=self.community_b)
        self.login(self.carol)
        self.assertNotContains(self.client.get(reverse("workforce:team_list")), "星河一队")
        url = reverse("workforce:team_edit", args=[elsewhere.pk])
        self.assertEqual(self.client.get(url).status_code, 404)
        new = reverse("workforce:team_new")
        self.assertEqual(self.client.get(new, {"community": "xinghe"}).status_code, 404)

    def test_it_asks_a_street_admin_which_community(self) -> None:
        self.login(self.dave)
        new = reverse("workforce:team_new")
        response = self.client.get(new)
        self.assertContains(response, "?community=xinghe")
        response = self.client.post(
            f"{new}?community=xinghe", {"name": "星河一队", "kind": TeamKind.SERVICE_TEAM}
        )
        self.assertRedirects(response, reverse("workforce:team_list"))
        self.assertEqual(self.teams()[0].community, self.community_b)

"""Grid pages: community staff move buildings between grids and assign grid workers."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scopes_disabled

from linli.registry.models import Building, Grid, Household
from linli.registry.scope import area_for
from linli.test import BaseTestCase


class GridPageTests(BaseTestCase):
    def test_it_lists_grids_with_their_workers(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("registry:grid_list"))
        self.assertContains(response, "第一网格")
        self.assertContains(response, "alice")
        self.assertContains(response, "第二网格")

    def test_it_moves_a_building_into_a_grid_and_the_households_follow(self) -> None:
        self.login(self.carol)
        nogrid = self.unit_nogrid.building
        first = self.unit1.building
        response = self.client.post(
            reverse("registry:grid_edit", args=[self.grid1.pk]),
            {
                "name": "第一网格",
                "code": "g1",
                "workers": [self.alice.pk],
                "buildings": [first.pk, nogrid.pk],
            },
        )
        self.assertRedirects(response, reverse("registry:grid_list"))
        with scopes_disabled():
            self.assertEqual(Building.objects.get(pk=nogrid.pk).grid, self.grid1)
            self.assertEqual(Household.objects.get(pk=self.wang.household_id).grid, self.grid1)
        # alice now sees 王芳, whose building joined her grid.
        self.assertIn(self.grid1.pk, area_for(self.alice).grids or [])
        self.login(self.alice)
        response = self.client.get(reverse("registry:resident_detail", args=[self.wang.pk]))
        self.assertEqual(response.status_code, 200)

    def test_it_takes_a_building_out_when_unticked(self) -> None:
        self.login(self.carol)
        self.client.post(
            reverse("registry:grid_edit", args=[self.grid2.pk]),
            {"name": "第二网格", "code": "g2", "workers": [self.bob.pk], "buildings": []},
        )
        with scopes_disabled():
            self.assertIsNone(Household.objects.get(pk=self.li.household_id).grid)
        self.login(self.bob)
        response = self.client.get(reverse("registry:resident_detail", args=[self.li.pk]))
        self.assertEqual(response.status_code, 404)

    def test_it_creates_a_grid_and_rejects_a_duplicate_code(self) -> None:
        self.login(self.carol)
        url = reverse("registry:grid_new", args=["yangguang"])
        response = self.client.post(url, {"name": "第三网格", "code": "g3"})
        self.assertRedirects(response, reverse("registry:grid_list"))
        response = self.client.post(url, {"name": "又一个", "code": "g3"})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "编码", status_code=400)
        with scopes_disabled():
            self.assertEqual(Grid.objects.filter(code="g3").count(), 1)

    def test_it_refuses_a_worker_of_another_community_and_another_communitys_building(self) -> None:
        from linli.test import make_user

        with scopes_disabled():
            outsider = make_user("eve", "grid_worker", community=self.community_b)
            far_building = self.unit_b.building
        self.login(self.carol)
        response = self.client.post(
            reverse("registry:grid_edit", args=[self.grid1.pk]),
            {
                "name": "第一网格",
                "code": "g1",
                "workers": [outsider.pk],
                "buildings": [far_building.pk],
            },
        )
        self.assertEqual(response.status_code, 400)
        with scopes_disabled():
            self.assertFalse(self.grid1.workers.filter(pk=outsider.pk).exists())
            self.assertIsNone(Building.objects.get(pk=far_building.pk).grid)

    def test_it_lets_only_staff_edit(self) -> None:
        for user in (self.alice, self.olivia, self.victor):
            self.login(user)
            response = self.client.post(
                reverse("registry:grid_edit", args=[self.grid1.pk]),
                {"name": "改", "code": "g1", "buildings": []},
            )
            self.assertEqual(response.status_code, 403, user.username)
        with scopes_disabled():
            self.assertEqual(Grid.objects.get(pk=self.grid1.pk).name, "第一网格")

"""The API's sign-in: tokens issued, refused, locked out and revoked; JSON errors at the edges."""

from __future__ import annotations

import json
from typing import Any

from axes.models import AccessAttempt
from django.test import override_settings

from linli.accounts.models import ApiToken, User
from linli.test import PASSWORD, BaseTestCase


class ApiAuthTests(BaseTestCase):
    def post_token(self, username: str, password: str) -> Any:
        return self.client.post(
            "/api/v1/auth/token",
            data=json.dumps({"username": username, "password": password}),
            content_type="application/json",
            REMOTE_ADDR="10.1.2.3",
        )

    def bearer(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {ApiToken.issue(user)}"}

    def test_it_issues_a_token_for_the_right_password(self) -> None:
        response = self.post_token("alice", PASSWORD)
        self.assertEqual(response.status_code, 200)
        token = response.json()["token"]
        stored = ApiToken.objects.get(user=self.alice)
        self.assertEqual(stored.key_hash, ApiToken.hash(token))
        self.assertIsNone(stored.revoked_at)
        self.assertNotEqual(stored.key_hash, token)
        self.alice.refresh_from_db()
        self.assertIsNotNone(self.alice.last_login)

        me = self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(me.status_code, 200)
        self.assertEqual(me.json()["username"], "alice")

    def test_it_refuses_a_wrong_password_with_a_chinese_reason(self) -> None:
        response = self.post_token("alice", "wrong password")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["detail"], "用户名或密码错误")
        self.assertFalse(ApiToken.objects.exists())
        attempt = AccessAttempt.objects.get(username="alice")
        self.assertEqual(attempt.failures_since_start, 1)

    def test_it_refuses_an_unknown_user_the_same_way(self) -> None:
        response = self.post_token("nobody", PASSWORD)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["detail"], "用户名或密码错误")

    def test_it_refuses_an_inactive_user(self) -> None:
        User.objects.filter(pk=self.alice.pk).update(is_active=False)
        response = self.post_token("alice", PASSWORD)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(ApiToken.objects.exists())

    def test_it_locks_out_after_five_failures(self) -> None:
        for _attempt in range(4):
            self.assertEqual(self.post_token("alice", "wrong password").status_code, 401)
        fifth = self.post_token("alice", "wrong password")
        self.assertIn(fifth.status_code, (401, 429))
        self.assertEqual(fifth["Content-Type"], "application/json; charset=utf-8")

        response = self.post_token("alice", PASSWORD)
        self.assertEqual(response.status_code, 429)
        self.assertEqual(response["Content-Type"], "application/json; charset=utf-8")
        self.assertIn("锁定", response.json()["detail"])
        self.assertFalse(ApiToken.objects.exists())
        self.assertGreaterEqual(AccessAttempt.objects.get(username="alice").failures_since_start, 5)

        # Another account from the same address is not locked.
        self.assertEqual(self.post_token("bob", PASSWORD).status_code, 200)

    @override_settings(AXES_COOLOFF_TIME=None)
    def test_it_says_whom_to_ask_when_the_lockout_does_not_expire(self) -> None:
        for _attempt in range(5):
            self.post_token("alice", "wrong password")
        response = self.post_token("alice", PASSWORD)
        self.assertEqual(response.status_code, 429)
        self.assertIn("联系管理员", response.json()["detail"])
        self.assertFalse(ApiToken.objects.exists())

    def test_it_clears_earlier_failures_on_success(self) -> None:
        for _attempt in range(3):
            self.post_token("alice", "wrong password")
        self.assertEqual(self.post_token("alice", PASSWORD).status_code, 200)
        self.assertFalse(AccessAttempt.objects.filter(username="alice").exists())

    def test_it_revokes_the_token_it_was_called_with(self) -> None:
        token = ApiToken.issue(self.carol)
        other = ApiToken.issue(self.carol)
        headers = {"Authorization": f"Bearer {token}"}

        response = self.client.delete("/api/v1/auth/token", headers=headers)
        self.assertEqual(response.status_code, 204)
        revoked = ApiToken.objects.get(key_hash=ApiToken.hash(token))
        self.assertIsNotNone(revoked.revoked_at)
        self.assertIsNone(ApiToken.objects.get(key_hash=ApiToken.hash(other)).revoked_at)

        after = self.client.get("/api/v1/me", headers=headers)
        self.assertEqual(after.status_code, 401)
        still = self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"})
        self.assertEqual(still.status_code, 200)

    def test_it_requires_a_token(self) -> None:
        response = self.client.get("/api/v1/me")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["detail"], "请先登录（Authorization: Bearer <token>）")

        bogus = self.client.get("/api/v1/residents", headers={"Authorization": "Bearer nope"})
        self.assertEqual(bogus.status_code, 401)

    def test_it_does_not_take_a_session_cookie_for_a_token(self) -> None:
        self.login(self.carol)
        self.assertEqual(self.client.get("/api/v1/me").status_code, 401)
        bogus = self.client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
        self.assertEqual(bogus.status_code, 401)

    def test_it_names_missing_fields(self) -> None:
        response = self.client.post(
            "/api/v1/auth/token", data=json.dumps({}), content_type="application/json"
        )
        self.assertEqual(response.status_code, 400)
        errors = {e["field"]: e["message"] for e in response.json()["errors"]}
        self.assertEqual(errors, {"username": "必填", "password": "必填"})

    def test_it_answers_a_broken_body_with_400(self) -> None:
        response = self.client.post(
            "/api/v1/auth/token", data="{username: alice", content_type="application/json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["detail"], "请求体不是有效的 JSON")
        self.assertFalse(AccessAttempt.objects.exists())

    def test_it_answers_a_wrong_method_in_json(self) -> None:
        response = self.client.get("/api/v1/auth/token")
        self.assertEqual(response.status_code, 405)
        self.assertIn("GET", response.json()["detail"])
        self.assertIn("POST", response["Allow"])

    def test_it_answers_an_unknown_path_in_json(self) -> None:
        response = self.client.get("/api/v1/no-such-thing", headers=self.bearer(self.carol))
        self.assertEqual(response.status_code, 404)
        self.assertIn("/api/v1/no-such-thing", response.json()["detail"])

    def test_it_tells_each_user_their_role_and_area(self) -> None:
        carol = self.client.get("/api/v1/me", headers=self.bearer(self.carol)).json()
        self.assertEqual(carol["role"], "community_staff")
        self.assertEqual(carol["role_label"], "社区工作人员")
        self.assertEqual([c["code"] for c in carol["area"]["communities"]], ["yangguang"])
        self.assertEqual([s["code"] for s in carol["area"]["streets"]], ["heping"])
        self.assertTrue(carol["can_edit_people"])

        alice = self.client.get("/api/v1/me", headers=self.bearer(self.alice)).json()
        self.assertEqual([g["code"] for g in alice["area"]["grids"]], ["g1"])

        dave = self.client.get("/api/v1/me", headers=self.bearer(self.dave)).json()
        self.assertEqual(
            sorted(c["code"] for c in dave["area"]["communities"]), ["xinghe", "yangguang"]
        )
        self.assertFalse(dave["can_edit_people"])

        rita = self.client.get("/api/v1/me", headers=self.bearer(self.rita_user)).json()
        self.assertEqual(rita["area"]["household_id"], self.zeng.household_id)
        self.assertFalse(rita["can_see_people"])

        victor = self.client.get("/api/v1/me", headers=self.bearer(self.victor)).json()
        self.assertEqual(victor["area"]["communities"], [])
        self.assertFalse(victor["area"]["everything"])

        root = self.client.get("/api/v1/me", headers=self.bearer(self.root)).json()
        self.assertTrue(root["area"]["everything"])

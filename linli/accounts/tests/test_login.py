"""Signing in: lockout after repeated failures, idle logout, audited logins, deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys

import time_machine
from axes.models import AccessAttempt, AccessLog
from django.test import override_settings
from django.urls import reverse

from linli.test import PASSWORD, BaseTestCase


class LoginTests(BaseTestCase):
    def test_it_logs_in_and_records_the_login(self) -> None:
        response = self.client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
        self.assertRedirects(response, reverse("home"))
        self.assertTrue(AccessLog.objects.filter(username="alice").exists())

    def test_it_says_why_a_login_failed_in_chinese(self) -> None:
        response = self.client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        self.assertContains(response, "请输入一个正确的")
        self.assertEqual(AccessAttempt.objects.get(username="alice").failures_since_start, 1)

    def test_it_locks_out_after_five_failures_even_with_the_right_password(self) -> None:
        for _ in range(5):
            self.client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        response = self.client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "登录失败次数过多", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_it_does_not_lock_out_another_user(self) -> None:
        for _ in range(5):
            self.client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        response = self.client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
        self.assertRedirects(response, reverse("home"))

    def test_it_logs_out_after_thirty_idle_minutes(self) -> None:
        with time_machine.travel("2026-11-24 09:00 +0800", tick=False) as traveller:
            self.client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
            self.assertEqual(self.client.get(reverse("home")).status_code, 200)
            traveller.shift(29 * 60)
            self.assertEqual(self.client.get(reverse("home")).status_code, 200)
            traveller.shift(31 * 60)
            response = self.client.get(reverse("home"))
            self.assertRedirects(
                response, f"{reverse('login')}?next=/", fetch_redirect_response=False
            )
            response = self.client.get(reverse("login"))
            self.assertContains(response, "长时间未操作")

    def test_it_logs_out_only_by_post(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.get(reverse("logout")).status_code, 405)
        self.client.post(reverse("logout"))
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_it_speaks_chinese_to_an_english_browser_until_asked(self) -> None:
        self.login(self.alice)
        headers = {"Accept-Language": "en-US,en;q=0.9"}
        response = self.client.get(reverse("registry:resident_list"), headers=headers)
        self.assertContains(response, '<html lang="zh-CN">')
        self.client.post(reverse("set_language"), {"language": "en", "next": "/"})
        response = self.client.get(reverse("registry:resident_list"), headers=headers)
        self.assertContains(response, '<html lang="en">')

    @override_settings(LANGUAGE_CODE="zh-hans")
    def test_it_switches_to_english(self) -> None:
        self.login(self.alice)
        self.client.post(reverse("set_language"), {"language": "en", "next": "/"})
        response = self.client.get(reverse("registry:resident_list"))
        self.assertContains(response, '<html lang="en">')
        self.assertContains(response, "Residents")


class DeployCheckTests(BaseTestCase):
    def test_it_passes_the_deploy_check_with_debug_off(self) -> None:
        env = {
            **os.environ,
            "LINLI_DEBUG": "false",
            "LINLI_SECRET_KEY": "x" * 60
            + "-deploy-check-secret-key-with-enough-variety-0123456789",
            "LINLI_ALLOWED_HOSTS": "linli.example.org",
            "DJANGO_SETTINGS_MODULE": "linli.settings",
        }
        env.pop("LINLI_SSL_REDIRECT", None)
        env.pop("LINLI_SECURE_COOKIES", None)
        result = subprocess.run(
            [sys.executable, "-m", "linli.cli", "check", "--deploy", "--fail-level", "WARNING"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class PasswordChangeTests(BaseTestCase):
    def test_it_refuses_a_weak_password_in_chinese(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
        )
        self.assertContains(response, "密码太短", status_code=400)
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password(PASSWORD))

    def test_it_changes_the_password(self) -> None:
        self.login(self.alice)
        new = "Wutong-grid-2026!"
        response = self.client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        )
        self.assertRedirects(response, reverse("password_change_done"))
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password(new))

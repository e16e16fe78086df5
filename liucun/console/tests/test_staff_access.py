"""Staff access from the console: invitations, grants only to colleagues, personal API tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from liucun.console.tests.conftest import PASSWORD, TwoAccounts, logged_in, make_user, member
from liucun.staff.models import ApiToken, AuditEntry, Invitation, Membership, Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def staff_url(name: str, appid: str, **kwargs: object) -> str:
    return reverse(f"console:{name}", kwargs={"appid": appid, **kwargs})


def invitation_link(client: Client, appid: str, role: str = "agent", note: str = "王店长") -> str:
    page = client.post(staff_url("staff-invite", appid), {"role": role, "note": note})
    assert page.status_code == 200
    found = re.search(r'value="(http://testserver/invite/[^"/]+/)"', page.content.decode())
    assert found, "the new link is shown on the answer"
    return found.group(1).removeprefix("http://testserver")


def test_an_admin_cannot_grant_roles_to_strangers_or_probe_usernames(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    before = set(Membership.objects.values_list("user_id", "account_id", "role"))
    answers = []
    for username in (t.admin_b.get_username(), "nobody-at-all"):
        page = client.post(
            staff_url("staff-grant", t.a.appid), {"username": username, "role": "admin"}, follow=True
        )
        answers.append([str(m) for m in page.context["messages"]])
    assert answers[0] == answers[1]  # a stranger and a made-up name get the same answer
    assert "invitation" in answers[0][0] or "邀请" in answers[0][0]
    assert set(Membership.objects.values_list("user_id", "account_id", "role")) == before


def test_an_admin_can_grant_a_role_to_a_colleague_of_another_of_their_accounts(
    two_accounts: TwoAccounts,
) -> None:
    t = two_accounts
    third = make_account(name="账号C")
    member(t.admin_a, third, Role.ADMIN)
    colleague = member(make_user("colleague"), third, Role.AGENT)
    logged_in(t.admin_a).post(
        staff_url("staff-grant", t.a.appid), {"username": "colleague", "role": "operator"}
    )
    assert Membership.objects.get(user=colleague, account=t.a).role == "operator"


def test_an_invitation_makes_a_login_and_grants_its_role_once(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    link = invitation_link(logged_in(t.admin_a), t.a.appid, role="agent")
    invitation = Invitation.objects.get(account=t.a)
    assert (
        invitation.key_hash not in link and link.split("/")[2] not in invitation.key_hash
    )  # only a hash kept
    assert logged_in(t.admin_a).get(staff_url("staff", t.a.appid)).content.decode().count("/invite/") == 0

    newcomer = Client()
    weak = newcomer.post(link, {"username": "xiaowang", "password": "123", "password2": "123"})
    assert weak.status_code == 400 and not get_user_model().objects.filter(username="xiaowang").exists()
    joined = newcomer.post(link, {"username": "xiaowang", "password": PASSWORD, "password2": PASSWORD})
    assert joined.status_code == 302 and joined["Location"] == staff_url("overview", t.a.appid)
    user = get_user_model().objects.get(username="xiaowang")
    assert Membership.objects.get(user=user, account=t.a).role == "agent"
    assert newcomer.get(staff_url("fans", t.a.appid)).status_code == 200
    again = Client().post(link, {"username": "other", "password": PASSWORD, "password2": PASSWORD})
    assert again.status_code == 404 and not get_user_model().objects.filter(username="other").exists()
    actions = set(AuditEntry.objects.filter(account=t.a).values_list("action", flat=True))
    assert {"staff.invite", "staff.accept_invitation"} <= actions


def test_a_logged_in_user_accepts_and_keeps_a_higher_role(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    link = invitation_link(logged_in(t.admin_a), t.a.appid, role="agent")
    operator = member(make_user("op"), t.a, Role.OPERATOR)
    client = logged_in(operator)
    assert "op" in client.get(link).content.decode()
    client.post(link)
    assert Membership.objects.get(user=operator, account=t.a).role == "operator"
    assert Invitation.objects.get(account=t.a).accepted_by == operator


def test_withdrawn_and_expired_invitations_do_not_work(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    admin = logged_in(t.admin_a)
    withdrawn = invitation_link(admin, t.a.appid)
    admin.post(staff_url("staff-invitation-revoke", t.a.appid, invitation_id=Invitation.objects.get().pk))
    expired = invitation_link(admin, t.a.appid, note="late")
    Invitation.objects.filter(note="late").update(expires_at=timezone.now() - timedelta(minutes=1))
    for link in (withdrawn, expired, "/invite/made-up-key/"):
        answer = Client().post(link, {"username": "x1234", "password": PASSWORD, "password2": PASSWORD})
        assert answer.status_code == 404
    assert not get_user_model().objects.filter(username="x1234").exists()


def test_another_accounts_admin_cannot_withdraw_or_see_invitations(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    invitation_link(logged_in(t.admin_a), t.a.appid)
    invitation = Invitation.objects.get()
    answer = logged_in(t.admin_b).post(
        staff_url("staff-invitation-revoke", t.a.appid, invitation_id=invitation.pk)
    )
    assert answer.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_personal_api_tokens_are_shown_once_capped_and_revocable(
    client: Client, two_accounts: TwoAccounts
) -> None:
    t = two_accounts
    console = logged_in(t.admin_a)
    made = console.post(
        reverse("console:api-tokens"), {"name": "CRM 同步", "max_role": "agent", "accounts": [t.a.appid]}
    )
    key = re.search(r'value="(lc_[^"]+)"', made.content.decode())
    assert key
    token = ApiToken.objects.get(user=t.admin_a)
    assert token.max_role == "agent" and list(token.accounts.all()) == [t.a]
    assert key.group(1) not in console.get(reverse("console:api-tokens")).content.decode()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key.group(1)}"}
    assert client.get(f"/api/accounts/{t.a.appid}/fans", **bearer).status_code == 200
    assert client.post(f"/api/accounts/{t.a.appid}/syncs", **bearer).status_code == 403  # capped at agent
    stranger = logged_in(t.admin_b)
    stranger.post(reverse("console:api-token-revoke", kwargs={"prefix": token.prefix}))
    assert client.get(f"/api/accounts/{t.a.appid}/fans", **bearer).status_code == 200  # not theirs to revoke
    console.post(reverse("console:api-token-revoke", kwargs={"prefix": token.prefix}))
    assert client.get(f"/api/accounts/{t.a.appid}/fans", **bearer).status_code == 401


def test_a_token_cannot_reach_beyond_its_users_accounts(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    console = logged_in(t.admin_a)
    console.post(
        reverse("console:api-tokens"), {"name": "sneaky", "max_role": "admin", "accounts": [t.b.appid]}
    )
    token = ApiToken.objects.get(user=t.admin_a)
    assert list(token.accounts.all()) == []  # b is not offered, so not taken; the token sees a only
    assert ApiToken.objects.count() == 1


def test_anonymous_visitors_cannot_reach_the_token_pages() -> None:
    for url in (
        reverse("console:api-tokens"),
        reverse("console:api-token-revoke", kwargs={"prefix": "abcd"}),
    ):
        answer = Client().post(url, {"name": "x", "max_role": "admin"})
        assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert ApiToken.objects.count() == 0

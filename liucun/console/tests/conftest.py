"""Staff, accounts and fans for console tests, made through the real action functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan, FollowPeriod
from liucun.staff.models import Membership, Role
from liucun.testing.factories import make_account

PASSWORD = "correct horse battery staple"


def make_user(username: str) -> AbstractBaseUser:
    return get_user_model().objects.create_user(username=username, password=PASSWORD)


def member(user: AbstractBaseUser, account: OfficialAccount, role: Role) -> AbstractBaseUser:
    Membership.objects.create(user=user, account=account, role=role)
    return user


def logged_in(user: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_fans(account: OfficialAccount, count: int, *, prefix: str = "oFan") -> list[Fan]:
    now = datetime.now(UTC)
    fans = []
    for i in range(count):
        followed = now - timedelta(days=i)
        fan = Fan.objects.create(
            account=account,
            openid=f"{prefix}{account.appid[-4:]}{i:04d}",
            is_following=i % 4 != 3,
            followed_at=followed,
            first_followed_at=followed,
            channel=f"store_{i % 3}",
            last_message_at=now - timedelta(hours=i * 10),
            last_interaction_at=now - timedelta(hours=i * 10),
            remark=f"备注{i}",
            attributes={"store": f"门店{i % 3}"},
        )
        FollowPeriod.objects.create(
            account=account,
            fan=fan,
            followed_at=followed,
            unfollowed_at=None if fan.is_following else now,
            channel=fan.channel,
        )
        fans.append(fan)
    return fans


@dataclass
class TwoAccounts:
    a: OfficialAccount
    b: OfficialAccount
    admin_a: AbstractBaseUser
    agent_b: AbstractBaseUser
    admin_b: AbstractBaseUser
    fans_b: list[Fan]


@pytest.fixture
def two_accounts() -> TwoAccounts:
    a, b = make_account(name="账号A"), make_account(name="账号B")
    add_fans(a, 5)
    fans_b = add_fans(b, 5)
    return TwoAccounts(
        a=a,
        b=b,
        admin_a=member(make_user("admin-a"), a, Role.ADMIN),
        agent_b=member(make_user("agent-b"), b, Role.AGENT),
        admin_b=member(make_user("admin-b"), b, Role.ADMIN),
        fans_b=fans_b,
    )

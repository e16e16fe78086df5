"""Roles per account, the outsider, and the audit log."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from liucun.staff.actions import grant_role, revoke_role
from liucun.staff.audit import record
from liucun.staff.models import AuditEntry, Membership, Role
from liucun.staff.permissions import accounts_visible_to, has_role, require_role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    users = get_user_model().objects
    a, b = make_account(name="门店A"), make_account(name="门店B")
    root = users.create_superuser("root", "root@example.com", "x" * 12)
    owner = users.create_user("owner", password="x" * 12)
    operator = users.create_user("operator", password="x" * 12)
    agent = users.create_user("agent", password="x" * 12)
    outsider = users.create_user("outsider", password="x" * 12)
    Membership.objects.create(user=owner, account=a, role=Role.ADMIN)
    Membership.objects.create(user=operator, account=a, role=Role.OPERATOR)
    Membership.objects.create(user=agent, account=a, role=Role.AGENT)
    Membership.objects.create(user=outsider, account=b, role=Role.ADMIN)
    return a, b, root, owner, operator, agent, outsider


def test_roles_rank_and_scope(people) -> None:
    a, b, root, owner, operator, agent, outsider = people
    assert (
        has_role(owner, a, Role.ADMIN)
        and has_role(operator, a, Role.OPERATOR)
        and has_role(agent, a, Role.AGENT)
    )
    assert not has_role(agent, a, Role.OPERATOR) and not has_role(operator, a, Role.ADMIN)
    assert not has_role(outsider, a, Role.AGENT) and not has_role(owner, b, Role.AGENT)
    assert has_role(root, a, Role.ADMIN) and has_role(root, b, Role.ADMIN)
    assert list(accounts_visible_to(agent)) == [a]
    assert list(accounts_visible_to(agent, Role.OPERATOR)) == []
    assert list(accounts_visible_to(outsider)) == [b]
    with pytest.raises(PermissionDenied):
        require_role(outsider, a, Role.AGENT)


def test_only_admins_grant_and_every_grant_is_audited(people) -> None:
    a, _b, _root, owner, operator, agent, outsider = people
    with pytest.raises(PermissionDenied):
        grant_role(operator, agent, a, Role.OPERATOR)
    with pytest.raises(PermissionDenied):
        grant_role(outsider, agent, a, Role.ADMIN)  # admin of B, nothing on A
    assert Membership.objects.get(user=agent, account=a).role == Role.AGENT
    assert AuditEntry.objects.filter(action__startswith="staff.").count() == 0
    grant_role(owner, agent, a, Role.OPERATOR)
    entry = AuditEntry.objects.get(action__startswith="staff.")
    assert (entry.actor, entry.account, entry.action, entry.target) == (owner, a, "staff.grant_role", "agent")
    assert entry.changes == {"role": ["agent", "operator"]}
    assert revoke_role(owner, agent, a)
    assert not has_role(agent, a, Role.AGENT)
    assert AuditEntry.objects.filter(action__startswith="staff.").count() == 2


def test_audit_never_stores_secrets() -> None:
    account = make_account()
    entry = record("cli", "accounts.update", account=account, changes={"secret": "abc", "name": ["x", "y"]})
    assert entry.changes == {"secret": "(changed)", "name": ["x", "y"]}
    assert entry.actor_label == "cli"

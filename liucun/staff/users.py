"""Staff logins: made from the console (by invitation) or the CLI, with the project's password rules."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from liucun.staff.audit import record


@transaction.atomic
def create_user(actor: Any, username: str, password: str, *, superuser: bool = False) -> Any:
    """A new login. ValidationError (nothing made) for a taken or malformed username or a weak password."""
    users = get_user_model()
    username = username.strip()
    field = users._meta.get_field(users.USERNAME_FIELD)
    assert isinstance(field, models.Field)  # the username is a concrete column
    user = users(**{users.USERNAME_FIELD: username})
    try:
        field.run_validators(username)
        field.clean(username, user)
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from None
    if users.objects.filter(**{f"{users.USERNAME_FIELD}__iexact": username}).exists():
        raise ValidationError({"username": [_("That username is taken.")]})
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.is_staff = user.is_superuser = superuser
    user.save()
    record(actor, "staff.create_user", target=username, changes={"superuser": superuser})
    return user


@transaction.atomic
def set_password(actor: Any, user: Any, password: str) -> None:
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor, "staff.set_password", target=user.get_username())


@transaction.atomic
def set_active(actor: Any, user: Any, active: bool) -> None:
    """Deactivated staff cannot log in and their API tokens stop working; their audit trail stays."""
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(actor, "staff.activate" if active else "staff.deactivate", target=user.get_username())

"""What an official account may do, derived from its type and WeChat verification (认证).

WeChat grants APIs by account type and verification; calling one the account lacks answers 48001.
Liucun decides up front instead, so the product never offers an operator a button that cannot work.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

SERVICE = "service"
SUBSCRIPTION = "subscription"


@dataclass(frozen=True)
class Capabilities:
    passive_reply: bool
    customer_service_messages: bool
    custom_menu: bool
    user_management: bool  # user/get, user/info, tags, remarks
    parametric_qr: bool
    mass_send: bool
    template_messages: bool
    subscription_notifications: bool
    oauth_pages: bool
    datacube: bool

    @property
    def passive_only(self) -> bool:
        return not self.customer_service_messages

    def as_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def capabilities_for(account_type: str, verified: bool) -> Capabilities:
    if account_type not in (SERVICE, SUBSCRIPTION):
        raise ValueError(f"unknown account type {account_type!r}")
    service = account_type == SERVICE
    return Capabilities(
        passive_reply=True,
        # Unverified subscription accounts get no customer-service API (48001): passive replies only.
        customer_service_messages=verified,
        # The menu API needs verification on subscription accounts; unverified ones edit it in the MP backend.
        custom_menu=service or verified,
        user_management=verified,
        parametric_qr=service and verified,
        # The mass-send API needs verification; quotas then differ by type (subscription 1 a day, service 4
        # a month for each fan).
        mass_send=verified,
        template_messages=service and verified,
        subscription_notifications=service,
        oauth_pages=service and verified,
        datacube=verified,
    )

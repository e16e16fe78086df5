"""What each audit action means, in the console's languages (the stored code stays the stable key)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "accounts.create": _("Account connected"),
    "accounts.update": _("Account settings changed"),
    "autoreply.create": _("Reply rule created"),
    "autoreply.update": _("Reply rule changed"),
    "autoreply.enable": _("Reply rule enabled"),
    "autoreply.disable": _("Reply rule disabled"),
    "autoreply.delete": _("Reply rule deleted"),
    "autoreply.import": _("Reply rules imported"),
    "crm.export": _("Fans exported (CSV)"),
    "crm.import": _("CRM data imported"),
    "crm.set_attributes": _("Fan attributes edited"),
    "crm.set_remark": _("Fan remark edited"),
    "fans.erase_personal_data": _("Fan's personal data erased"),
    "fans.export_personal_data": _("Fan's personal data exported"),
    "fans.start_follower_sync": _("Follower sync started"),
    "fans.resume_follower_sync": _("Follower sync resumed"),
    "inbox.assign": _("Conversation assigned"),
    "inbox.canned_delete": _("Canned reply deleted"),
    "inbox.canned_save": _("Canned reply saved"),
    "inbox.note": _("Note added to a conversation"),
    "inbox.open": _("Conversation started"),
    "inbox.resolve": _("Conversation resolved"),
    "inbox.settings": _("Inbox settings changed"),
    "inbox.transfer": _("Conversation transferred"),
    "outbound.send": _("Message sent to a fan"),
    "segments.create": _("Saved filter created"),
    "segments.update": _("Saved filter changed"),
    "segments.rename": _("Saved filter renamed"),
    "segments.delete": _("Saved filter deleted"),
    "servicehours.save": _("Service hours changed"),
    "staff.accept_invitation": _("Invitation accepted"),
    "reconcile.pull": _("WeChat's statistics pulled"),
    "staff.activate": _("Login reactivated"),
    "staff.deactivate": _("Login deactivated"),
    "staff.create_api_token": _("API token created"),
    "staff.revoke_api_token": _("API token revoked"),
    "staff.create_user": _("Login created"),
    "staff.set_password": _("Password set"),
    "staff.grant_role": _("Role granted"),
    "staff.revoke_role": _("Role revoked"),
    "staff.invite": _("Invitation created"),
    "staff.revoke_invitation": _("Invitation withdrawn"),
    "tags.create": _("Tag created"),
    "tags.rename": _("Tag renamed"),
    "tags.delete": _("Tag deleted"),
    "tags.pull": _("Tags pulled from WeChat"),
    "tags.sync_blacklist": _("Blacklist synced"),
    "tags.tag_fans": _("Fans tagged"),
    "tags.untag_fans": _("Fans untagged"),
    "tags.resume_job": _("Tag job resumed"),
    "tags.blacklist": _("Fans blacklisted"),
    "tags.unblacklist": _("Fans removed from the blacklist"),
    "channels.create": _("Channel created"),
    "channels.update": _("Channel renamed or its note changed"),
    "channels.delete": _("Channel deleted"),
    "channels.qrcode_create": _("QR code created"),
    "push.annotate": _("Push moment marked"),
    "push.import_csv": _("Pushes imported from a CSV"),
    "push.import_published": _("Published articles imported as pushes"),
    "push.delete": _("Push deleted"),
    "menus.create_draft": _("Menu draft created"),
    "menus.update_draft": _("Menu draft changed"),
    "menus.delete_draft": _("Menu draft deleted"),
    "menus.publish": _("Menu published"),
    "menus.publish_conditional": _("Conditional menu published"),
    "menus.restore": _("Earlier menu published again"),
    "menus.delete": _("All menus deleted in WeChat"),
    "menus.delete_conditional": _("Conditional menu deleted"),
}

# Who, when no person acted: the labels Liucun writes for itself.
ACTOR_LABELS: dict[str, Promise] = {
    "system": _("Liucun"),
    "scheduler": _("Liucun (schedule)"),
    "worker": _("Liucun (worker)"),
    "privacy-policy": _("Privacy policy"),
    "cli": _("Command line"),
    "invitation": _("Invitation"),
}


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def actor_display(label: str) -> str:
    known = ACTOR_LABELS.get(label)
    return str(known) if known is not None else label

"""Console URLs. Every page under a/<appid>/ is wrapped by liucun.console.scope.account_page; a test
walks this list and fails for a page that is not."""

from django.urls import path

from liucun.console.views import admin_pages, auth, crm, fans, home, inbox, jobs, staff_access, tags

app_name = "console"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("invite/<str:key>/", staff_access.invitation, name="invitation"),
    path("me/tokens/", staff_access.api_tokens, name="api-tokens"),
    path("me/tokens/<str:prefix>/revoke", staff_access.api_token_revoke, name="api-token-revoke"),
    path("a/<str:appid>/", home.overview, name="overview"),
    path("a/<str:appid>/fans/", fans.fan_list, name="fans"),
    path("a/<str:appid>/fans.csv", crm.fans_csv, name="fans-csv"),
    path("a/<str:appid>/fans/<str:openid>/", fans.fan_detail, name="fan"),
    path("a/<str:appid>/fans/<str:openid>/remark", crm.fan_remark, name="fan-remark"),
    path("a/<str:appid>/fans/<str:openid>/attributes", crm.fan_attributes, name="fan-attributes"),
    path("a/<str:appid>/fans/<str:openid>/tags", tags.fan_tags, name="fan-tags"),
    path("a/<str:appid>/fans/<str:openid>/export.json", fans.fan_export, name="fan-export"),
    path("a/<str:appid>/fans/<str:openid>/erase", fans.fan_erase, name="fan-erase"),
    path("a/<str:appid>/messages/", inbox.messages_page, name="messages"),
    path("a/<str:appid>/tags/", tags.tags_page, name="tags"),
    path("a/<str:appid>/tags/create", tags.tag_create, name="tag-create"),
    path("a/<str:appid>/tags/pull", tags.tags_pull, name="tags-pull"),
    path("a/<str:appid>/tags/bulk", tags.tags_bulk, name="tags-bulk"),
    path("a/<str:appid>/tags/<int:tag_id>/rename", tags.tag_rename, name="tag-rename"),
    path("a/<str:appid>/tags/<int:tag_id>/delete", tags.tag_delete, name="tag-delete"),
    path("a/<str:appid>/tags/jobs/<int:job_id>", tags.tag_job_progress, name="tag-job-progress"),
    path("a/<str:appid>/blacklist/", tags.blacklist_page, name="blacklist"),
    path("a/<str:appid>/blacklist/sync", tags.blacklist_sync, name="blacklist-sync"),
    path("a/<str:appid>/blacklist/change", tags.blacklist_change, name="blacklist-change"),
    path("a/<str:appid>/imports/", crm.imports_page, name="imports"),
    path("a/<str:appid>/imports/<int:job_id>/", crm.import_detail, name="import"),
    path("a/<str:appid>/imports/<int:job_id>/commit", crm.import_commit, name="import-commit"),
    path("a/<str:appid>/sync/", jobs.sync_page, name="sync"),
    path("a/<str:appid>/sync/start", jobs.sync_start, name="sync-start"),
    path("a/<str:appid>/sync/<int:job_id>/resume", jobs.sync_resume, name="sync-resume"),
    path("a/<str:appid>/sync/<int:job_id>/progress", jobs.sync_progress, name="sync-progress"),
    path("a/<str:appid>/settings/", admin_pages.account_settings, name="settings"),
    path("a/<str:appid>/staff/", admin_pages.staff_page, name="staff"),
    path("a/<str:appid>/staff/grant", admin_pages.staff_grant, name="staff-grant"),
    path("a/<str:appid>/staff/invite", staff_access.invite, name="staff-invite"),
    path(
        "a/<str:appid>/staff/invitations/<int:invitation_id>/revoke",
        staff_access.invitation_revoke,
        name="staff-invitation-revoke",
    ),
    path("a/<str:appid>/staff/<int:user_id>/revoke", admin_pages.staff_revoke, name="staff-revoke"),
    path("a/<str:appid>/audit/", admin_pages.audit_log, name="audit"),
]

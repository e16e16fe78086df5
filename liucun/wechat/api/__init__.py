"""The typed WeChat API: one module per area, mirroring wxsim's areas.

Domain apps call these functions instead of writing endpoint paths or payload keys. Each takes a
WeChatClient (the one outbound seam), checks WeChat's documented limits where that is cheap, refusing
with the error code WeChat itself would answer (LimitError), and returns small typed results.

    users             followers, profiles, remarks
    tags              tags, members, the blacklist
    menus             the default and conditional menus
    customer_service  customer-service messages, typing, accounts and sessions
    mass              mass sends (by tag, to all, to openids), preview, status, delete
    templates         template messages, the template library, subscription notifications
    qrcode            parametric QR codes
    datacube          statistics
    media             temporary media, permanent materials, article images
    publishing        drafts and publishing
    content           the message bodies customer-service and mass sends share
"""

"""WeChat's error answers, as wxsim gives them. Codes follow the platform's documentation."""

from __future__ import annotations


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str, http_status: int = 200) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.http_status = http_status

    def as_json(self) -> dict[str, object]:
        return {"errcode": self.errcode, "errmsg": self.errmsg}


BUSY = (-1, "system error")
INVALID_CREDENTIAL = (40001, "invalid credential, access_token is invalid or not latest")
INVALID_GRANT_TYPE = (40002, "invalid grant_type")
INVALID_OPENID = (40003, "invalid openid")
INVALID_APPID = (40013, "invalid appid")
INVALID_ACCESS_TOKEN = (40014, "invalid access_token")
INVALID_LIST_SIZE = (40032, "invalid openid list size")
INVALID_CHARSET = (40033, "invalid charset. please check your request, if include \\uxxxx will create fail!")
INVALID_APPSECRET = (40125, "invalid appsecret")
ACCESS_TOKEN_EXPIRED = (42001, "access_token expired")
MISSING_TOKEN = (41001, "access_token missing")
REQUIRE_SUBSCRIBE = (43004, "require subscribe")
API_LIMIT = (45009, "reach max api daily quota limit")
API_FREQ = (45011, "api minute-quota reach limit, mustslower retry next minute")
OUT_OF_WINDOW = (45015, "response out of time limit or subscription is canceled")
TOO_MANY_TAGS = (45056, "too many tags now, no need to add new")
TAG_TOO_MANY_FANS = (45057, "can't delete the tag that has too many fans")
SYSTEM_TAG = (45058, "can't modify sys tag")
FAN_TOO_MANY_TAGS = (45059, "user has too many tags")
CS_COUNT_LIMIT = (45047, "out of response count limit")
TAG_NAME_EXISTS = (45157, "invalid tag name")
TAG_NAME_TOO_LONG = (45158, "tag name too long")
INVALID_TAG_ID = (45159, "invalid tag id")
NO_USER = (46004, "not existed user")
NO_MASS_QUOTA = (45028, "has no masssend quota")
CLIENTMSGID_USED = (45065, "clientmsgid exist")
CLIENTMSGID_RETRY = (45066, "same clientmsgid retry too fast")
CLIENTMSGID_TOO_LONG = (45067, "clientmsgid size out of limit")
INVALID_MSG_ID = (40007, "invalid media_id or msg_id")
INVALID_TEMPLATE = (40037, "invalid template_id")
USER_REFUSED_SUBSCRIBE = (43101, "user refuse to accept the msg")
QR_LIMIT = (45029, "qrcode count out of limit")
INVALID_SCENE = (40097, "invalid args")
INVALID_BUTTON_SIZE = (40016, "invalid button size")
INVALID_BUTTON_TYPE = (40017, "invalid button type")
INVALID_BUTTON_NAME = (40018, "invalid button name size")
INVALID_BUTTON_KEY = (40019, "invalid button key size")
INVALID_BUTTON_URL = (40020, "invalid button url size")
INVALID_SUB_BUTTON_SIZE = (40023, "invalid sub button size")
NO_DEFAULT_MENU = (65303, "there is no menu, please create menu first")
NO_MENU = (46003, "menu no exist")
PRIVACY_MATCH_RULE = (65320, "invalid matchrule: sex/country/province/city/language are no longer supported")
INVALID_CODE = (40029, "invalid code")
CODE_USED = (40163, "code been used")
INVALID_DATE_RANGE = (61501, "date range error")
PARSE_ERROR = (47001, "data format error")
API_UNAUTHORIZED = (48001, "api unauthorized")
USER_REFUSED = (48002, "user block msg")
OPENID_NOT_OF_APPID = (49003, "not match openid with appid")


# Materials, drafts and publishing (全局返回码 on developers.weixin.qq.com; 53600 from 发布能力).
INVALID_MEDIA_TYPE = (40004, "invalid media type")
INVALID_FILE_TYPE = (40005, "invalid file type")
INVALID_FILE_SIZE = (40006, "invalid meida size")  # WeChat's own spelling
INVALID_MEDIA_ID = (40007, "invalid media_id")
EMPTY_MEDIA = (44001, "empty media data")
EMPTY_NEWS = (44003, "empty news data")
EMPTY_CONTENT = (44004, "empty content")
MEDIA_TOO_BIG = (45001, "media size out of limit")
CONTENT_TOO_LONG = (45002, "content size out of limit")
TITLE_TOO_LONG = (45003, "title size out of limit")
DIGEST_TOO_LONG = (45004, "description size out of limit")
TOO_MANY_ARTICLES = (45008, "article size out of limit")
INVALID_ARTICLE_ID = (53600, "Article ID 无效")

INVALID_MESSAGE_TYPE = (40008, "invalid message type")
INVALID_REMARK = (40092, "invalid remark name")
INVALID_INDUSTRY = (40102, "invalid industry id")
OPENID_LIST_TOO_SHORT = (40130, "invalid openid list size, at least two openid")
IP_NOT_ALLOWED = (40164, "invalid ip, not in whitelist")
INDUSTRY_CHANGE_TOO_SOON = (43100, "change template too frequently")
TEMPLATE_LIMIT = (45026, "template num exceeds limit")
TEMPLATE_INDUSTRY_CONFLICT = (45027, "template conflict with industry")
INVALID_TYPING_COMMAND = (45072, "command invalid")
TYPING_NEEDS_INTERACTION = (45080, "need interaction with user in the last 30 seconds before typing")
ALREADY_TYPING = (45081, "you are already typing")
QUOTA_CLEARS_USED = (48006, "forbid to clear quota because of reaching the limit")
KF_INVALID_ACCOUNT = (65401, "invalid custom service account")
KF_INVALID_NICKNAME = (65403, "invalid nickname")
KF_BAD_ACCOUNT_NAME = (65404, "invalid custom service account name")
KF_TOO_MANY = (65405, "account number exceeds limit")
KF_EXISTS = (65406, "custom service account exists")
KF_NO_SESSION = (65413, "no session of this user")
KF_FAN_TAKEN = (65414, "user is being served by another account")
KF_OFFLINE = (65415, "custom service account is offline")
CGI_PATH_NOT_FOUND = (76021, "cgi_path not found, please check")
SUB_TEMPLATE_LIMIT = (200012, "private template count reaches limit (50)")
SUB_INVALID_TID = (200014, "invalid tid")
SUB_INVALID_KIDLIST = (200020, "invalid kidList")
SUB_INVALID_SCENE = (200021, "invalid sceneDesc")


def fail(code: tuple[int, str], detail: str = "") -> WeChatError:
    errcode, errmsg = code
    return WeChatError(errcode, f"{errmsg}{' (' + detail + ')' if detail else ''} rid: wxsim")

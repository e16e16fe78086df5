"""The demo account's inbox: canned replies, two demo agents taking conversations, and (demo only) those
agents answering some waiting questions with canned replies through the real reply path, so a newcomer
sees the loop working: a fan asks, a conversation opens, an agent answers, wxsim's fan receives it.

The demo agents have no usable password (nobody logs in as them); an admin can set one with
`liucun user` if they want to see the inbox as an agent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from liucun.accounts.models import OfficialAccount
from liucun.inbox import actions
from liucun.inbox.models import AgentStatus, CannedReply, Conversation, State
from liucun.refusals import Refused
from liucun.staff.models import Membership, Role

log = logging.getLogger(__name__)

DEMO_AGENTS = ("客服小李", "客服小王")
# shortcut: (title, text, words in a fan's question that this answers)
DEMO_CANNED = {
    "hours": (
        "营业时间",
        "您好！我们的营业时间是每天 9:00–21:00，节假日照常营业。",
        ("营业", "几点", "时间"),
    ),
    "points": ("积分查询", "您好！点击菜单“会员中心-我的积分”即可查看积分，也可以回复“积分”。", ("积分",)),
    "shipping": (
        "发货时间",
        "您好！订单付款后 48 小时内发货，发货后会推送物流单号。",
        ("发货", "订单", "物流"),
    ),
    "booking": ("预约到店", "您好！点击菜单“预约到店”选择门店和时间即可，我们会提前一天提醒您。", ("预约",)),
    "thanks": ("收到", "收到您的消息，客服稍后回复您，感谢耐心等待！", ()),
}
# Answer one conversation in this many: the others stay waiting, so the inbox has work to show.
ANSWER_ONE_IN = 3
ANSWER_AFTER = timedelta(minutes=2)
PER_RUN = 5


def seed_demo(account: OfficialAccount) -> None:
    """Canned replies and the demo agents, available: safe on every start (an edited canned reply keeps
    its text; a deleted one comes back)."""
    for shortcut, (title, text, _words) in DEMO_CANNED.items():
        if not CannedReply.objects.filter(account=account, shortcut=shortcut).exists():
            actions.save_canned("system", account, shortcut=shortcut, title=title, text=text)
    for username in DEMO_AGENTS:
        user = demo_agent(username)
        Membership.objects.get_or_create(user=user, account=account, defaults={"role": Role.AGENT})
        AgentStatus.objects.update_or_create(account=account, user=user, defaults={"available": True})


def demo_agent(username: str) -> AbstractBaseUser:
    users = get_user_model().objects
    user = users.filter(username=username).first()
    if user is None:
        user = users.create_user(username=username)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def canned_for(account_id: int, question: str) -> str:
    """The canned reply whose words the question contains, else the acknowledgement."""
    texts = dict(CannedReply.objects.filter(account_id=account_id).values_list("shortcut", "text"))
    for shortcut, (_title, _text, words) in DEMO_CANNED.items():
        if shortcut in texts and any(word in question for word in words):
            return texts[shortcut]
    return texts.get("thanks", DEMO_CANNED["thanks"][1])


def answer_some(account: OfficialAccount, now: datetime | None = None) -> int:
    """The demo agents answer some of their waiting conversations; returns how many replies were queued."""
    from liucun.events.models import Event

    now = now or datetime.now(UTC)
    agents = {u.pk: u for u in get_user_model().objects.filter(username__in=DEMO_AGENTS)}
    waiting = Conversation.objects.filter(
        account=account,
        state=State.OPEN,
        assigned_to_id__in=list(agents),
        waiting_since__lte=now - ANSWER_AFTER,
        last_fan_message_at__gt=now - timedelta(hours=47),
    ).order_by("waiting_since")[: PER_RUN * ANSWER_ONE_IN]
    answered = 0
    for conversation in waiting:
        if conversation.pk % ANSWER_ONE_IN or answered >= PER_RUN:
            continue
        last = (
            Event.objects.filter(account=account, openid=conversation.openid, kind="text")
            .order_by("-wechat_time")
            .values_list("payload__Content", flat=True)
            .first()
        )
        try:
            actions.reply(
                agents[conversation.assigned_to_id],  # type: ignore[index]
                conversation,
                text=canned_for(account.pk, str(last or "")),
                key=f"demo:{conversation.pk}:{conversation.last_event_id}",
                seen_replies=conversation.replies,
            )
        except Refused as exc:
            log.info("demo agent did not answer %s: %s", conversation.openid, exc.message)
            continue
        answered += 1
    return answered

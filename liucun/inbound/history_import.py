"""Importing a wxsim bulk history file through the callback's own processing code.

Each record becomes the same fields a callback would carry, is turned into a typed message by the
protocol layer and stored by `store_deliveries` (source "import"), so imported history and live
callbacks can never disagree about what an event means. Re-running an import is safe: every event
keeps its dedupe key, so what is already stored is skipped.

The file is read with the standard library (mmap + memoryview); Liucun does not need numpy.
This is `liucun import-history --per-event`, and the reference the bulk path (history_bulk.py), the
command's default, is tested against.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from liucun.events.models import EventSource
from liucun.inbound.accounts_cache import CallbackAccount
from liucun.inbound.actions import Delivery, Outcome, store_deliveries
from liucun.wechat.messages import message_from_fields

FORMAT = "wxsim-bulk/1"
OPENID_BYTES = 28


class HistoryFileError(Exception):
    pass


@dataclass
class ImportStats:
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0


class HistoryFile:
    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        try:
            self.header: dict[str, Any] = json.loads(self._file.readline())
        except ValueError:
            raise HistoryFileError(f"{path} does not start with a JSON header line") from None
        if self.header.get("format") != FORMAT:
            raise HistoryFileError(f"{path} is not a {FORMAT} file")
        offset = self._file.tell()
        n, fans = int(self.header["events"]), int(self.header["fans"])
        expected = offset + n * (8 + 4 + 1 + 2) + fans * OPENID_BYTES
        size = path.stat().st_size
        if size != expected:
            raise HistoryFileError(f"{path} is {size} bytes; its header promises {expected} (truncated?)")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(self._map)
        self.time = view[offset : offset + 8 * n].cast("q")
        offset += 8 * n
        self.fan = view[offset : offset + 4 * n].cast("i")
        offset += 4 * n
        self.kind = view[offset : offset + n].cast("b")
        offset += n
        self.detail = view[offset : offset + 2 * n].cast("h")
        offset += 2 * n
        self.openids = view[offset : offset + fans * OPENID_BYTES]
        self.events = n

    def openid(self, fan: int) -> str:
        return bytes(self.openids[fan * OPENID_BYTES : (fan + 1) * OPENID_BYTES]).decode("ascii")

    def fields(self, i: int) -> dict[str, str]:
        h, kind, detail = self.header, self.kind[i], self.detail[i]
        fields = {
            "ToUserName": h["original_id"],
            "FromUserName": self.openid(self.fan[i]),
            "CreateTime": str(self.time[i]),
        }
        if kind == 0:
            scene = h["channels"][detail]
            return {
                **fields,
                "MsgType": "event",
                "Event": "subscribe",
                "EventKey": f"qrscene_{scene}" if scene else "",
            }
        if kind == 1:
            return {**fields, "MsgType": "event", "Event": "unsubscribe", "EventKey": ""}
        if kind == 3:
            return {**fields, "MsgType": "event", "Event": "CLICK", "EventKey": h["menu_keys"][detail]}
        if kind == 4:
            return {**fields, "MsgType": "event", "Event": "VIEW", "EventKey": h["h5_urls"][detail]}
        content = h["questions"][detail] if kind == 2 else "打卡"
        # A MsgId unique within the file and stable across re-imports of it.
        msg_id = (int(h["seed"]) % 2**20) * 2**40 + i
        return {**fields, "MsgType": "text", "Content": content, "MsgId": str(msg_id)}

    def close(self) -> None:
        for view in (self.time, self.fan, self.kind, self.detail, self.openids):
            view.release()
        self._map.close()
        self._file.close()


def check_account(history: HistoryFile, account: CallbackAccount) -> None:
    """Refuse a file written for another account: its openids mean nothing there."""
    header = history.header
    if header["appid"] != account.appid or header["original_id"] != account.original_id:
        raise HistoryFileError(
            f"the file is for {header['appid']} ({header['original_id']}), "
            f"not {account.appid} ({account.original_id})"
        )


def import_history(
    history: HistoryFile,
    account: CallbackAccount,
    *,
    batch: int = 2000,
    start: int = 0,
    limit: int | None = None,
    progress: Callable[[ImportStats], None] | None = None,
) -> ImportStats:
    check_account(history, account)
    stats = ImportStats()
    end = history.events if limit is None else min(history.events, start + limit)
    for chunk in _chunks(start, end, batch):
        now = datetime.now(UTC)
        deliveries = [
            Delivery(account, message_from_fields(history.fields(i)), now, EventSource.IMPORT) for i in chunk
        ]
        for outcome in store_deliveries(deliveries):
            stats.events += 1
            if isinstance(outcome, Outcome):
                stats.duplicates += outcome.duplicate
                stats.stored += not outcome.duplicate
            else:
                stats.failed += 1
        if progress is not None:
            progress(stats)
    return stats


def _chunks(start: int, end: int, size: int) -> Iterator[range]:
    for first in range(start, end, size):
        yield range(first, min(end, first + size))

"""The baseline: a plain Flask handler that verifies, decrypts, parses and commits one row per request.

Same durability as Liucun (SQLite WAL, synchronous=FULL), one connection per thread, no batching, no
fan CRM, no reply: the least a correct callback handler can do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sqlite3
import struct
import threading

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml.ElementTree import fromstring
from flask import Flask, abort, request

TOKEN = os.environ["BASELINE_TOKEN"]
APPID = os.environ["BASELINE_APPID"].encode()
KEY = base64.b64decode(os.environ["BASELINE_AES_KEY"] + "=")
DATABASE = os.environ["BASELINE_DATABASE"]

app = Flask(__name__)
_local = threading.local()


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DATABASE, timeout=20)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        _local.conn = conn
    return conn


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


@app.post("/wechat/<appid>/callback")
def callback(appid: str) -> str:
    q = request.args
    if not hmac.compare_digest(_sha1(TOKEN, q["timestamp"], q["nonce"]), q.get("signature", "")):
        abort(403)
    encrypt = fromstring(request.get_data()).findtext("Encrypt")
    if not hmac.compare_digest(_sha1(TOKEN, q["timestamp"], q["nonce"], encrypt), q.get("msg_signature", "")):
        abort(403)
    decryptor = Cipher(algorithms.AES(KEY), modes.CBC(KEY[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    if plain[20 + length :] != APPID:
        abort(400)
    xml = plain[20 : 20 + length]
    fields = {child.tag: child.text or "" for child in fromstring(xml)}
    if fields.get("MsgId"):
        key = f"msg:{fields['MsgId']}"
    else:
        key = f"evt:{fields['FromUserName']}:{fields['CreateTime']}:{fields.get('Event', '')}"
    conn = _db()
    conn.execute(
        "INSERT OR IGNORE INTO events (openid, kind, dedupe_key, created, payload) VALUES (?, ?, ?, ?, ?)",
        (fields["FromUserName"], fields["MsgType"], key, int(fields["CreateTime"]), xml.decode()),
    )
    conn.commit()
    return "success"


def create_schema(path: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, openid TEXT NOT NULL, kind TEXT NOT NULL, "
        "dedupe_key TEXT NOT NULL UNIQUE, created INTEGER NOT NULL, payload TEXT NOT NULL)"
    )
    conn.commit()
    conn.close()

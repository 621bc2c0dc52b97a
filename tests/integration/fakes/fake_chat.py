#!/usr/bin/env python3
"""A fake chat server for the alerting tests, on loopback: the Telegram Bot API, Discord
webhooks and a generic webhook on one port, recording every call, with canned faults on demand.
Standard library only.

  fake_chat.py --port-file FILE [--port N] [--telegram-token TOKEN] [--discord-webhook ID/TOKEN]

Binds 127.0.0.1 (port N, default 0: any free one) and writes the chosen port to FILE (written
whole, then renamed, so a reader never sees half of it).

Telegram: POST /bot<token>/<method> with a JSON body (or a query string), for sendMessage,
editMessageText, answerCallbackQuery, getUpdates and getMe, answered as the real API does:
{"ok":true,"result":...} with message objects (message_id, from, chat, date, text,
reply_markup), or {"ok":false,"error_code":N,"description":...}. Only --telegram-token is
valid (default 123456:TEST-token), others get 401 Unauthorized. getUpdates is a long poll: it
confirms updates below `offset`, then holds up to `timeout` seconds until an update is
injected; a second getUpdates while one waits ends the first with 409 Conflict, as the real API
does. editMessageText with the same text and markup is 400 "message is not modified".

Discord: POST /api/webhooks/<id>/<token>[?wait=true] (wait: 200 and a message object with a
snowflake-like string id; else 204), PATCH /api/webhooks/<id>/<token>/messages/<mid> (200, the
message; 404 Unknown Message). With --discord-webhook, other webhooks are 404 Unknown Webhook.

Generic webhook: POST /hook/<anything>: 204.

Control, under /_fake/ (never recorded as calls):
  GET|POST /_fake/calls   the calls so far: [{time, method, path (as sent), headers, body}],
                          body parsed as JSON when it is JSON, else text
  POST /_fake/script      a JSON list (or one object) of canned answers for the next calls whose
                          path matches the regex `match` (re.search), each used `times` times
                          (default 1), first listed first:
                            {"match": "sendMessage", "times": 2, "status": 429, "body": {...}}
                            {"match": "webhooks", "status": 500}      (body: {} by default)
                            {"match": "...", "garbage": true}         (200, a body that is not JSON)
                            {"match": "...", "hang": 30}              (no answer for 30 s, then close)
                            {"match": "...", "headers": {"X-RateLimit-Reset-After": "1.5"}}
                            {"match": "...", "no_length": true, ...}  (no Content-Length: the
                                                                       body ends when it closes)
                          "headers" alone adds headers to the normal answer; with status, body,
                          garbage or hang the answer is the canned one. "body" may be a string.
  POST /_fake/press       inject a callback_query update for getUpdates: {"from_id": 123,
                          "username": "alice", "data": "ack:7", "message_id": 5,
                          "chat_id": "-100"}; answers {"ok":true,"update_id":N,
                          "callback_query_id":"..."}
  POST /_fake/reset       forget calls, scripts, messages and updates
"""
import argparse
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

BOT = {"id": 7000000001, "is_bot": True, "first_name": "fleet fake", "username": "fleet_fake_bot"}
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message")


class State:
    """Everything the fake remembers, behind one lock (handlers run on their own threads)."""

    def __init__(self):
        self.lock = threading.Condition()
        self.stop = threading.Event()
        self.reset()

    def reset(self):
        self.calls = []
        self.scripts = []
        self.telegram_messages = {}  # (chat_id, message_id) -> message
        self.next_message_id = 1
        self.updates = []
        self.next_update_id = 100000
        self.next_callback = 1
        self.poll_generation = 0
        self.discord_messages = {}  # message id -> message
        self.next_snowflake = 1100000000000000000

    def script_for(self, path):
        for entry in self.scripts:
            if re.search(entry.get("match", ""), path):
                entry["times"] = entry.get("times", 1) - 1
                if entry["times"] <= 0:
                    self.scripts.remove(entry)
                return entry
        return None


def parse_body(raw, content_type):
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        if "application/x-www-form-urlencoded" in (content_type or ""):
            return dict(urllib.parse.parse_qsl(text))
        return text


def telegram_error(code, description, retry_after=None):
    body = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return code, body


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def make_handler(args, state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *unused):
            pass

        # --- plumbing -------------------------------------------------------------------
        def read_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def send(self, status, body, headers=None, no_length=False):
            if body is None:
                data = b""
            elif isinstance(body, (bytes, bytearray)):
                data = bytes(body)
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = json.dumps(body).encode()
            self.send_response(status)
            if data or status != 204:
                self.send_header("Content-Type", "application/json")
            if no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            elif status != 204:
                self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, str(value))
            self.end_headers()
            if status != 204:
                self.wfile.write(data)

        def do_GET(self):
            self.dispatch("GET")

        def do_POST(self):
            self.dispatch("POST")

        def do_PATCH(self):
            self.dispatch("PATCH")

        def dispatch(self, method):
            raw = self.read_body()
            body = parse_body(raw, self.headers.get("Content-Type"))
            path = urllib.parse.urlsplit(self.path).path
            if path.startswith("/_fake/"):
                status, reply = self.control(method, path, body)
                self.send(status, reply)
                return
            with state.lock:
                state.calls.append({"time": time.time(), "method": method, "path": self.path,
                                    "headers": dict(self.headers.items()), "body": body})
                entry = state.script_for(self.path)
            extra = {}
            if entry is not None:
                extra = entry.get("headers", {})
                if "hang" in entry:
                    state.stop.wait(float(entry["hang"]))
                    self.close_connection = True
                    return
                if "garbage" in entry:
                    self.send(entry.get("status", 200), "<html><body>502 Bad Gateway</body>{\"ok\":",
                              extra, entry.get("no_length", False))
                    return
                if "status" in entry or "body" in entry:
                    self.send(entry.get("status", 200), entry.get("body", {}), extra,
                              entry.get("no_length", False))
                    return
            status, reply = self.route(method, path, body)
            self.send(status, reply, extra, bool(entry and entry.get("no_length")))

        # --- control --------------------------------------------------------------------
        def control(self, method, path, body):
            if path == "/_fake/calls":
                with state.lock:
                    return 200, list(state.calls)
            if method != "POST":
                return 405, {"error": "POST only"}
            if path == "/_fake/script":
                entries = body if isinstance(body, list) else [body]
                if not all(isinstance(e, dict) for e in entries):
                    return 400, {"error": "a script is a JSON object or a list of them"}
                with state.lock:
                    state.scripts.extend(entries)
                return 200, {"ok": True, "scripts": len(state.scripts)}
            if path == "/_fake/press":
                if not isinstance(body, dict):
                    return 400, {"error": "a press is a JSON object"}
                return 200, self.press(body)
            if path == "/_fake/reset":
                with state.lock:
                    state.reset()
                    state.lock.notify_all()
                return 200, {"ok": True}
            return 404, {"error": "no such control"}

        def press(self, body):
            with state.lock:
                update_id = state.next_update_id
                state.next_update_id += 1
                callback_id = "cb%d" % state.next_callback
                state.next_callback += 1
                chat_id = as_int(body.get("chat_id", -100))
                message_id = as_int(body.get("message_id", 1))
                message = state.telegram_messages.get((str(chat_id), message_id), {
                    "message_id": message_id, "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "supergroup"}, "text": ""})
                sender = {"id": as_int(body.get("from_id", 1)), "is_bot": False,
                          "first_name": body.get("first_name", body.get("username", "user"))}
                if body.get("username"):
                    sender["username"] = body["username"]
                state.updates.append({"update_id": update_id, "callback_query": {
                    "id": callback_id, "from": sender, "message": message,
                    "chat_instance": "-5000", "data": body.get("data", "")}})
                state.lock.notify_all()
            return {"ok": True, "update_id": update_id, "callback_query_id": callback_id}

        # --- the APIs -------------------------------------------------------------------
        def route(self, method, path, body):
            match = re.fullmatch(r"/bot([^/]+)/(\w+)", path)
            if match:
                if method != "POST" and method != "GET":
                    return telegram_error(405, "Method Not Allowed")
                if match.group(1) != args.telegram_token:
                    return telegram_error(401, "Unauthorized")
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                params = body if isinstance(body, dict) else query
                if body is not None and not isinstance(body, dict):
                    return telegram_error(400, "Bad Request: can't parse JSON object")
                return self.telegram(match.group(2), params)
            match = re.fullmatch(r"/api/webhooks/(\d+)/([^/]+)(?:/messages/(\d+))?", path)
            if match:
                return self.discord(method, match.group(1), match.group(2), match.group(3), body)
            if re.fullmatch(r"/hook/.*", path) and method == "POST":
                return 204, None
            return 404, {"error": "not found"}

        def telegram(self, name, params):
            handlers = {"sendMessage": self.send_message, "editMessageText": self.edit_message,
                        "answerCallbackQuery": self.answer_callback, "getUpdates": self.get_updates,
                        "getMe": lambda _: (200, {"ok": True, "result": BOT})}
            if name not in handlers:
                return telegram_error(404, "Not Found")
            return handlers[name](params)

        def send_message(self, params):
            if "chat_id" not in params:
                return telegram_error(400, "Bad Request: chat_id is empty")
            if not params.get("text"):
                return telegram_error(400, "Bad Request: message text is empty")
            with state.lock:
                message = {"message_id": state.next_message_id, "from": BOT,
                           "chat": {"id": as_int(params["chat_id"]), "type": "supergroup"},
                           "date": int(time.time()), "text": params["text"]}
                markup = params.get("reply_markup")
                if isinstance(markup, dict) and markup.get("inline_keyboard"):
                    message["reply_markup"] = markup
                state.telegram_messages[(str(params["chat_id"]), state.next_message_id)] = message
                state.next_message_id += 1
            return 200, {"ok": True, "result": message}

        def edit_message(self, params):
            key = (str(params.get("chat_id")), as_int(params.get("message_id")))
            with state.lock:
                message = state.telegram_messages.get(key)
                if message is None:
                    return telegram_error(400, "Bad Request: message to edit not found")
                # An empty keyboard is no keyboard, as the real API sees it.
                markup = params.get("reply_markup")
                if not (isinstance(markup, dict) and markup.get("inline_keyboard")):
                    markup = None
                if params.get("text") == message["text"] and markup == message.get("reply_markup"):
                    return telegram_error(400, NOT_MODIFIED)
                if not params.get("text"):
                    return telegram_error(400, "Bad Request: message text is empty")
                message["text"] = params["text"]
                message["edit_date"] = int(time.time())
                if markup:
                    message["reply_markup"] = markup
                else:
                    message.pop("reply_markup", None)
                return 200, {"ok": True, "result": dict(message)}

        def answer_callback(self, params):
            callback_id = params.get("callback_query_id")
            if not callback_id:
                return telegram_error(400, "Bad Request: query is too old and response timeout "
                                      "expired or query ID is invalid")
            return 200, {"ok": True, "result": True}

        def get_updates(self, params):
            try:
                offset = int(params.get("offset", 0))
                timeout = max(0.0, float(params.get("timeout", 0)))
            except (TypeError, ValueError):
                return telegram_error(400, "Bad Request: wrong parameter")
            deadline = time.monotonic() + timeout
            with state.lock:
                state.poll_generation += 1
                mine = state.poll_generation
                state.lock.notify_all()  # ends an older poll with 409
                if offset:
                    state.updates = [u for u in state.updates if u["update_id"] >= offset]
                while True:
                    if state.poll_generation != mine:
                        return telegram_error(409, "Conflict: terminated by other getUpdates "
                                              "request; make sure that only one bot instance "
                                              "is running")
                    ready = [u for u in state.updates if u["update_id"] >= offset]
                    left = deadline - time.monotonic()
                    if ready or left <= 0 or state.stop.is_set():
                        return 200, {"ok": True, "result": ready[:100]}
                    state.lock.wait(min(left, 0.5))

        def discord(self, method, webhook_id, token, message_id, body):
            if args.discord_webhook and "%s/%s" % (webhook_id, token) != args.discord_webhook:
                return 404, {"message": "Unknown Webhook", "code": 10015}
            if not isinstance(body, dict):
                return 400, {"message": "Cannot send an empty message", "code": 50006}
            if method == "POST" and message_id is None:
                if not body.get("content") and not body.get("embeds"):
                    return 400, {"message": "Cannot send an empty message", "code": 50006}
                with state.lock:
                    message = {"id": str(state.next_snowflake), "type": 0,
                               "content": body.get("content", ""),
                               "embeds": body.get("embeds", []), "channel_id": "900000000000000001",
                               "webhook_id": webhook_id, "author": {"id": webhook_id, "bot": True},
                               "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
                    state.discord_messages[message["id"]] = message
                    state.next_snowflake += 1
                wait = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("wait")
                if wait and wait[-1] == "true":
                    return 200, message
                return 204, None
            if method == "PATCH" and message_id is not None:
                with state.lock:
                    message = state.discord_messages.get(message_id)
                    if message is None or message["webhook_id"] != webhook_id:
                        return 404, {"message": "Unknown Message", "code": 10008}
                    for field in ("content", "embeds"):
                        if field in body:
                            message[field] = body[field]
                    message["edited_timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                                                time.gmtime())
                    return 200, dict(message)
            return 405, {"message": "405: Method Not Allowed", "code": 0}

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--telegram-token", default="123456:TEST-token")
    parser.add_argument("--discord-webhook", default="",
                        help="ID/TOKEN: the only webhook that exists (default: any)")
    args = parser.parse_args()
    state = State()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args, state))
    server.daemon_threads = True
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as out:
        out.write("%d\n" % server.server_address[1])
    os.rename(temporary, args.port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        state.stop.set()
        with state.lock:
            state.lock.notify_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())

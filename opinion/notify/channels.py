"""The channels that carry a Notification out of the system: e-mail (SMTP), robot webhooks
(企业微信 / 钉钉 group robots, or a generic JSON receiver) and an SMS gateway.

Every channel has one method, `send(row)`, which either returns (the server took the message) or
raises DeliveryError with the reason in words; opinion.notify.delivery records it on the row and
retries later. Servers, formats and secrets come from the app config (config.py, environment).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from opinion.errors import DeliveryError
from opinion.models import Notification

WEBHOOK_FORMATS = ("wecom", "dingtalk", "generic")


def _http(url: str, data: bytes, headers: dict, timeout: float, method: str = "POST") -> tuple[int, str]:
    """(status, body text) of one request; DeliveryError when the server cannot be reached."""
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        body = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
        raise DeliveryError(f"服务器返回 HTTP {exc.code}：{body[:200]}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"无法连接 {urllib.parse.urlsplit(url).netloc}：{reason}") from exc


class EmailChannel:
    name = "email"

    def __init__(self, config: dict):
        self.host = config.get("SMTP_HOST") or ""
        self.port = int(config.get("SMTP_PORT") or 25)
        self.user = config.get("SMTP_USER") or ""
        self.password = config.get("SMTP_PASSWORD") or ""
        self.security = config.get("SMTP_SECURITY") or "none"  # none | starttls | ssl
        self.sender = config.get("SMTP_FROM") or self.user or "opinion@localhost"
        self.sender_name = config.get("SMTP_FROM_NAME") or "舆情回应系统"
        self.timeout = float(config.get("NOTIFY_TIMEOUT") or 10)

    def message(self, row: Notification) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = row.subject
        msg["From"] = formataddr((self.sender_name, self.sender))
        msg["To"] = row.address
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "localhost")
        msg.set_content(row.body)
        return msg

    def send(self, row: Notification) -> None:
        if not self.host:
            raise DeliveryError("未配置邮件服务器（环境变量 OPINION_SMTP_HOST）")
        smtp_class = smtplib.SMTP_SSL if self.security == "ssl" else smtplib.SMTP
        try:
            with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
                if self.security == "starttls":
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(self.message(row))
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"邮件服务器拒收收件人 {row.address}") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError("邮件服务器登录失败，请检查 OPINION_SMTP_USER / OPINION_SMTP_PASSWORD") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"邮件发送失败（{self.host}:{self.port}）：{exc}") from exc


class WebhookChannel:
    """POST JSON to a robot. 企业微信 and 钉钉 robots take {"msgtype": "text", ...} and answer
    {"errcode": 0}; 钉钉's 加签 adds timestamp and sign (HMAC-SHA256 of "timestamp\\nsecret")."""

    name = "webhook"

    def __init__(self, config: dict):
        self.format = config.get("WEBHOOK_FORMAT") or "wecom"
        if self.format not in WEBHOOK_FORMATS:
            raise DeliveryError(f"OPINION_WEBHOOK_FORMAT 应为 {', '.join(WEBHOOK_FORMATS)} 之一")
        self.secret = config.get("WEBHOOK_SECRET") or ""
        self.timeout = float(config.get("NOTIFY_TIMEOUT") or 10)

    def payload(self, row: Notification) -> dict:
        if self.format == "generic":
            return {"subject": row.subject, "body": row.body, "alert_id": row.alert_id,
                    "case_id": row.case_id, "created_at": row.created_at.isoformat() if row.created_at else None}
        return {"msgtype": "text", "text": {"content": f"{row.subject}\n{row.body}"}}

    def url(self, address: str, now_ms: int | None = None) -> str:
        if self.format != "dingtalk" or not self.secret:
            return address
        ts = str(now_ms if now_ms is not None else int(time.time() * 1000))
        digest = hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        return f"{address}{'&' if '?' in address else '?'}timestamp={ts}&sign={sign}"

    def send(self, row: Notification) -> None:
        if not row.address or not row.address.startswith(("http://", "https://")):
            raise DeliveryError(f"Webhook 地址无效：{row.address or '（空）'}")
        data = json.dumps(self.payload(row), ensure_ascii=False).encode("utf-8")
        _, text = _http(self.url(row.address), data, {"Content-Type": "application/json; charset=utf-8"},
                        self.timeout)
        if self.format != "generic":
            try:
                answer = json.loads(text or "{}")
            except ValueError as exc:
                raise DeliveryError(f"机器人返回的不是 JSON：{text[:100]}") from exc
            if answer.get("errcode", 0) != 0:
                raise DeliveryError(f"机器人拒收：{answer.get('errcode')} {answer.get('errmsg', '')}")


class SmsChannel:
    """Any HTTP SMS gateway: the request is a template in configuration.

    SMS_BODY is a JSON object whose string values may hold {phone}, {text} and {subject}; it is sent
    as JSON or as a form (SMS_ENCODING). SMS_SUCCESS, e.g. "code=0", names a field of the JSON
    answer and its value on success; empty means any HTTP 2xx is success.
    """

    name = "sms"
    MAX_TEXT = 300  # gateways split long texts into several billed messages; keep alerts short

    def __init__(self, config: dict):
        self.url = config.get("SMS_URL") or ""
        self.method = (config.get("SMS_METHOD") or "POST").upper()
        self.encoding = config.get("SMS_ENCODING") or "json"
        self.template = _json_setting(config.get("SMS_BODY") or '{"phone": "{phone}", "text": "{text}"}',
                                      "OPINION_SMS_BODY")
        self.headers = _json_setting(config.get("SMS_HEADERS") or "{}", "OPINION_SMS_HEADERS")
        self.success = config.get("SMS_SUCCESS") or ""
        self.timeout = float(config.get("NOTIFY_TIMEOUT") or 10)

    def request_body(self, row: Notification) -> tuple[bytes, str]:
        text = f"{row.subject}：{row.body}"[: self.MAX_TEXT]
        values = {"phone": row.address or "", "text": text, "subject": row.subject}
        body = {k: v.replace("{phone}", values["phone"]).replace("{text}", values["text"])
                .replace("{subject}", values["subject"]) if isinstance(v, str) else v
                for k, v in self.template.items()}
        if self.encoding == "form":
            return urllib.parse.urlencode(body).encode(), "application/x-www-form-urlencoded"
        return json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"

    def send(self, row: Notification) -> None:
        if not self.url:
            raise DeliveryError("未配置短信网关（环境变量 OPINION_SMS_URL）")
        if not row.address:
            raise DeliveryError("没有手机号")
        data, content_type = self.request_body(row)
        _, text = _http(self.url, data, {"Content-Type": content_type, **self.headers}, self.timeout,
                        self.method)
        if self.success:
            field, _, expected = self.success.partition("=")
            try:
                got = json.loads(text).get(field)
            except (ValueError, AttributeError) as exc:
                raise DeliveryError(f"短信网关返回无法识别：{text[:100]}") from exc
            if str(got) != expected:
                raise DeliveryError(f"短信网关拒绝：{field}={got}，应为 {expected}（{text[:100]}）")


def _json_setting(text: str, name: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise DeliveryError(f"{name} 不是合法的 JSON：{exc}") from exc
    if not isinstance(value, dict):
        raise DeliveryError(f"{name} 应为 JSON 对象")
    return value


def build_channels(config: dict) -> dict:
    """Channel name -> a channel, or the DeliveryError that says why it cannot be built."""
    out: dict = {}
    for cls in (EmailChannel, WebhookChannel, SmsChannel):
        try:
            out[cls.name] = cls(config)
        except DeliveryError as exc:
            out[cls.name] = exc
    return out

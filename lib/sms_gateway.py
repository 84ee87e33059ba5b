"""SMS through a Chinese provider's own SDK: Aliyun SMS (阿里云短信, ``alibabacloud-dysmsapi20170525``) or
Tencent Cloud SMS (``tencentcloud-sdk-python-sms``). No ORM here.

Both providers send only templates they approved beforehand, under an approved sign name (签名): a message
is (number, template code, template parameters), never a free text. ``send`` groups the messages into the
fewest calls the provider documents (Aliyun ``SendBatchSms``: up to 100 numbers, one parameter set per
number; Tencent ``SendSms``: up to 200 numbers sharing one parameter list) and returns one ``Answer`` per
message with what the provider said: its request id, its code and message, and its id of the message
(Aliyun BizId, Tencent SerialNo). A refused call or a network error becomes an error answer for the
messages of that call only; the other calls still go.

Template parameters are an ordered mapping: Aliyun templates use the names (``${name}``), Tencent
templates the positions (``{1}``, ``{2}``...) in the same order."""

import json
import logging
from dataclasses import dataclass

from alibabacloud_dysmsapi20170525 import models as aliyun_models
from alibabacloud_dysmsapi20170525.client import Client as AliyunClient
from alibabacloud_tea_openapi.utils_models import Config as AliyunConfig
from darabonba.runtime import RuntimeOptions
from Tea.exceptions import TeaException
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as tencent_models
from tencentcloud.sms.v20210111 import sms_client

_logger = logging.getLogger(__name__)

ALIYUN_BATCH = 100
TENCENT_BATCH = 200
ALIYUN_OK = "OK"
TENCENT_OK = "Ok"
# The code of an answer when the provider could not be reached (no answer of its own).
NETWORK_ERROR = "NetworkError"
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Message:
    key: str  # the caller's id of the message (Odoo: the SMS uuid)
    number: str  # E.164, e.g. +8613812345678
    template_code: str
    params: dict  # ordered {name: text}


@dataclass(frozen=True)
class Answer:
    key: str
    ok: bool
    request_id: str
    code: str
    message: str
    provider_id: str = ""


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _texts(params):
    return {str(name): "" if value is None else str(value) for name, value in (params or {}).items()}


class AliyunGateway:
    """Aliyun SMS, ``SendBatchSms`` (different parameters per number)."""

    provider = "aliyun"

    def __init__(self, access_key_id, access_key_secret, sign_name, endpoint=None, protocol="https"):
        self.sign_name = sign_name
        self.client = AliyunClient(
            AliyunConfig(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                endpoint=endpoint or "dysmsapi.aliyuncs.com",
                protocol=protocol,
                connect_timeout=TIMEOUT_SECONDS * 1000,
                read_timeout=TIMEOUT_SECONDS * 1000,
            )
        )

    def send(self, messages):
        by_template = {}
        for message in messages:
            by_template.setdefault(message.template_code, []).append(message)
        answers = []
        for template_code, group in by_template.items():
            for batch in chunks(group, ALIYUN_BATCH):
                answers.extend(self._send_batch(template_code, batch))
        return answers

    def _send_batch(self, template_code, batch):
        request = aliyun_models.SendBatchSmsRequest(
            phone_number_json=json.dumps([message.number for message in batch]),
            sign_name_json=json.dumps([self.sign_name] * len(batch), ensure_ascii=False),
            template_code=template_code,
            template_param_json=json.dumps([_texts(message.params) for message in batch], ensure_ascii=False),
        )
        try:
            body = self.client.send_batch_sms_with_options(request, RuntimeOptions(autoretry=False)).body
        except TeaException as error:
            data = getattr(error, "data", None) or {}
            code = getattr(error, "code", None) or data.get("Code") or NETWORK_ERROR
            text = data.get("Message") or str(getattr(error, "message", "") or error)
            request_id = data.get("RequestId") or getattr(error, "request_id", None) or ""
            _logger.warning("Aliyun SMS: %s messages refused: %s %s", len(batch), code, text)
            return [Answer(message.key, False, request_id, code, text) for message in batch]
        ok = body.code == ALIYUN_OK
        return [
            Answer(
                message.key, ok, body.request_id or "", body.code or "", body.message or "", body.biz_id or ""
            )
            for message in batch
        ]


class TencentGateway:
    """Tencent Cloud SMS, ``SendSms`` (one parameter list for all the numbers of a call)."""

    provider = "tencent"

    def __init__(
        self, secret_id, secret_key, app_id, sign_name, region="ap-guangzhou", endpoint=None, protocol="https"
    ):
        self.app_id = app_id
        self.sign_name = sign_name
        profile = HttpProfile(
            endpoint=endpoint or "sms.tencentcloudapi.com", protocol=protocol, reqTimeout=TIMEOUT_SECONDS
        )
        self.client = sms_client.SmsClient(
            credential.Credential(secret_id, secret_key),
            region or "ap-guangzhou",
            ClientProfile(httpProfile=profile),
        )

    def send(self, messages):
        groups = {}
        for message in messages:
            params = tuple(_texts(message.params).values())
            groups.setdefault((message.template_code, params), []).append(message)
        answers = []
        for (template_code, params), group in groups.items():
            for batch in chunks(group, TENCENT_BATCH):
                answers.extend(self._send_batch(template_code, list(params), batch))
        return answers

    def _send_batch(self, template_code, params, batch):
        request = tencent_models.SendSmsRequest()
        request.PhoneNumberSet = [message.number for message in batch]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = template_code
        request.TemplateParamSet = params
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as error:
            code = error.get_code() or NETWORK_ERROR
            text = error.get_message() or ""
            _logger.warning("Tencent Cloud SMS: %s messages refused: %s %s", len(batch), code, text)
            return [Answer(message.key, False, error.get_request_id() or "", code, text) for message in batch]
        # One status per number; the same number twice in a call gets its statuses in order.
        statuses = {}
        for status in response.SendStatusSet or []:
            statuses.setdefault(status.PhoneNumber, []).append(status)
        answers = []
        for message in batch:
            found = statuses.get(message.number) or []
            if not found:
                answers.append(
                    Answer(
                        message.key, False, response.RequestId or "", "NoStatus", "No status for this number"
                    )
                )
                continue
            status = found.pop(0)
            answers.append(
                Answer(
                    message.key,
                    status.Code == TENCENT_OK,
                    response.RequestId or "",
                    status.Code or "",
                    status.Message or "",
                    status.SerialNo or "",
                )
            )
        return answers


def make_gateway(provider, key_id, secret, sign_name, app_id=None, region=None, endpoint=None):
    """The gateway of ``provider`` ("aliyun" or "tencent"). ``endpoint`` may be "http://host:port" (a
    local server) or a host name (https)."""
    protocol = "https"
    if endpoint and "://" in endpoint:
        protocol, endpoint = endpoint.split("://", 1)
        endpoint = endpoint.rstrip("/")
    if provider == "aliyun":
        return AliyunGateway(key_id, secret, sign_name, endpoint=endpoint, protocol=protocol)
    if provider == "tencent":
        return TencentGateway(
            key_id, secret, app_id, sign_name, region=region, endpoint=endpoint, protocol=protocol
        )
    raise ValueError(f"unknown SMS provider {provider!r}")

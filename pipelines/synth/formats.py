"""Writers for the real input formats, as AWS and users produce them.

- IAM: ``aws iam get-account-authorization-details`` output, whole or in pages.
- CloudTrail: native S3 delivery files (gzipped ``{"Records": [...]}`` under
  ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/``) and JSON Lines exports.
- The identity inventory CSV.

It also knows how CloudTrail logs a few common API calls (``ApiCall`` shapes for
S3, DynamoDB, Bedrock, Lambda, Athena, Glue...), so generators describe what an
identity does and get records as AWS writes them.

Everything is deterministic given its inputs: identifiers and file names come
from hashes of what they name, gzip headers carry mtime 0, and JSON keeps the
key order the caller built (AWS's own field order for records made by
``cloudtrail_record``), so equal inputs give equal bytes. Records are plain
dicts serialised once per file, never opened per record, so a scale generator
can push tens of millions of events through the same functions.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import json
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pipelines.sources.inventory import INVENTORY_COLUMNS

try:  # orjson is pinned through policy_sentry; the fallback writes the same bytes.
    import orjson

    def json_bytes(value: object) -> bytes:
        """Compact JSON, as CloudTrail writes it."""
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - exercised only without orjson

    def json_bytes(value: object) -> bytes:
        """Compact JSON, as CloudTrail writes it."""
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# IAM unique-id prefixes and lengths as AWS issues them (base32 bodies).
IAM_ID_FORMATS: dict[str, tuple[str, int]] = {
    "user": ("AIDA", 17),
    "role": ("AROA", 17),
    "group": ("AGPA", 17),
    "policy": ("ANPA", 17),
    "instance_profile": ("AIPA", 17),
    "server_certificate": ("ASCA", 17),
    "access_key": ("AKIA", 16),
    "session_key": ("ASIA", 16),
}

AUTHORIZATION_DETAILS_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")

# The inventory's columns are the reader's: one definition of the format.

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_DELIVERY_LAG = timedelta(minutes=5)


# --- identifiers and timestamps -------------------------------------------------


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def iam_unique_id(kind: str, *parts: str) -> str:
    """An IAM-style unique id (``AROA...``, ``AKIA...``) that always comes out
    the same for the same ``kind`` and ``parts``."""
    prefix, length = IAM_ID_FORMATS[kind]
    return prefix + base64.b32encode(_digest(kind, *parts)).decode()[:length]


def _digest_stream(length: int, *parts: str) -> bytes:
    """``length`` bytes derived from ``parts`` (SHA-256 in counter mode)."""
    blocks = [_digest(str(counter), *parts) for counter in range(-(-length // 32))]
    return b"".join(blocks)[:length]


def alnum_token(length: int, *parts: str) -> str:
    """Mixed-case letters and digits derived from ``parts`` (file-name suffixes, tokens)."""
    return "".join(_ALNUM[byte % len(_ALNUM)] for byte in _digest_stream(length, *parts))


def stable_uuid(*parts: str) -> str:
    """A version-4-shaped UUID derived from ``parts`` (resource ids that must not change)."""
    return str(uuid.UUID(bytes=_digest(*parts)[:16], version=4))


def cli_timestamp(moment: datetime) -> str:
    """The AWS CLI's timestamp form: ``2025-03-01T10:00:00+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def cloudtrail_timestamp(moment: datetime) -> str:
    """CloudTrail's ``eventTime`` form: ``2025-03-01T10:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ensure_parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- IAM authorization details --------------------------------------------------


def paginate_authorization_details(export: Mapping, max_items: int) -> list[dict]:
    """Split one account's export into the pages the API returns for
    ``MaxItems=max_items``: entities in the API's order (users, groups, roles,
    policies), every page holding all four lists, ``IsTruncated`` on every page
    and ``Marker`` on every page but the last."""
    if max_items <= 0:
        raise ValueError("max_items must be positive")
    entities = [(key, item) for key in AUTHORIZATION_DETAILS_KEYS for item in export.get(key, [])]
    chunks = [entities[i : i + max_items] for i in range(0, len(entities), max_items)] or [[]]
    pages = []
    for index, chunk in enumerate(chunks):
        page: dict = {key: [item for k, item in chunk if k == key] for key in AUTHORIZATION_DETAILS_KEYS}
        is_last = index == len(chunks) - 1
        page["IsTruncated"] = not is_last
        if not is_last:
            next_key, next_item = chunks[index + 1][0]
            seed = json.dumps(next_item, sort_keys=True)
            page["Marker"] = base64.b64encode(_digest_stream(96, "marker", next_key, seed)).decode()
        pages.append(page)
    return pages


def write_authorization_details(path: Path, account_export: Mapping) -> Path:
    """Write one export (or one page of it) as the CLI prints it: 4-space JSON."""
    path = _ensure_parent(Path(path))
    path.write_text(json.dumps(account_export, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# --- CloudTrail records -----------------------------------------------------------


def iam_user_identity(
    *,
    account: str,
    user_name: str,
    user_id: str,
    access_key_id: str | None = None,
    console_session_started_at: datetime | None = None,
    mfa_authenticated: bool = True,
) -> dict:
    """``userIdentity`` of an IAM user: with its long-lived key (``AKIA``), with a
    console session (temporary ``ASIA`` key and session attributes), or neither
    (the ``ConsoleLogin`` event itself)."""
    identity = {
        "type": "IAMUser",
        "principalId": user_id,
        "arn": f"arn:aws:iam::{account}:user/{user_name}",
        "accountId": account,
    }
    if access_key_id:
        identity["accessKeyId"] = access_key_id
    identity["userName"] = user_name
    if console_session_started_at is not None:
        identity["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {
                "creationDate": cloudtrail_timestamp(console_session_started_at),
                "mfaAuthenticated": "true" if mfa_authenticated else "false",
            },
        }
    return identity


def assumed_role_identity(
    *,
    account: str,
    role_name: str,
    role_id: str,
    session_name: str,
    access_key_id: str,
    session_started_at: datetime,
    role_path: str = "/",
    invoked_by: str | None = None,
    ec2_role_delivery: bool = False,
) -> dict:
    """``userIdentity`` of a role session: the session ARN names the role and the
    session; ``sessionContext.sessionIssuer`` names the role itself."""
    context: dict = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role_id,
            "arn": f"arn:aws:iam::{account}:role{role_path}{role_name}",
            "accountId": account,
            "userName": role_name,
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": cloudtrail_timestamp(session_started_at), "mfaAuthenticated": "false"},
    }
    if ec2_role_delivery:
        context["ec2RoleDelivery"] = "2.0"
    identity = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session_name}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}",
        "accountId": account,
        "accessKeyId": access_key_id,
        "sessionContext": context,
    }
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity


def aws_service_identity(service: str) -> dict:
    """``userIdentity`` of a call an AWS service makes itself (``lambda.amazonaws.com``)."""
    return {"type": "AWSService", "invokedBy": service}


def aws_account_identity(*, account: str, principal_id: str) -> dict:
    """``userIdentity`` seen by the target account of a cross-account call."""
    return {"type": "AWSAccount", "principalId": principal_id, "accountId": account}


def resource(arn: str, resource_type: str, account: str | None = None) -> dict:
    """One entry of a record's ``resources`` list."""
    if account:
        return {"accountId": account, "type": resource_type, "ARN": arn}
    return {"type": resource_type, "ARN": arn}


def cloudtrail_record(
    *,
    event_time: datetime,
    event_source: str,
    event_name: str,
    region: str,
    user_identity: Mapping,
    source_ip: str,
    user_agent: str,
    request_parameters: Mapping | None,
    response_elements: Mapping | None,
    event_id: str,
    request_id: str,
    read_only: bool,
    recipient_account: str,
    event_type: str = "AwsApiCall",
    category: str = "Management",
    resources: Sequence[Mapping] | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    additional_event_data: Mapping | None = None,
    shared_event_id: str | None = None,
    tls_host: str | None = None,
    from_console: bool = False,
    event_version: str | None = None,
) -> dict:
    """One CloudTrail record with AWS's field order; optional fields appear only
    when set, as in real logs. Data events (``category="Data"``) are not
    management events and default to event version 1.08 (1.09 otherwise)."""
    is_data = category == "Data"
    record: dict = {
        "eventVersion": event_version or ("1.08" if is_data else "1.09"),
        "userIdentity": user_identity,
        "eventTime": cloudtrail_timestamp(event_time),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    }
    if error_code:
        record["errorCode"] = error_code
    if error_message:
        record["errorMessage"] = error_message
    record["requestParameters"] = request_parameters
    record["responseElements"] = response_elements
    if additional_event_data is not None:
        record["additionalEventData"] = additional_event_data
    if event_type == "AwsApiCall":
        record["requestID"] = request_id
    record["eventID"] = event_id
    record["readOnly"] = read_only
    if resources:
        record["resources"] = list(resources)
    record["eventType"] = event_type
    record["managementEvent"] = not is_data
    record["recipientAccountId"] = recipient_account
    if shared_event_id:
        record["sharedEventID"] = shared_event_id
    record["eventCategory"] = category
    if tls_host:
        record["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": tls_host,
        }
    if from_console:
        record["sessionCredentialFromConsole"] = "true"
    return record


# --- CloudTrail shapes of common API calls ----------------------------------------------


@dataclass(frozen=True)
class ApiCall:
    """How CloudTrail logs one call, apart from who made it, when and where.

    params / response: ``requestParameters`` / ``responseElements``.
    extra: ``additionalEventData``.
    host: the endpoint in ``tlsDetails``; empty means the service's regional
        endpoint, None means no TLS details (calls an AWS service makes itself).
    via_service: the AWS service that made the call on the identity's behalf
        (``invokedBy``); it then appears as source IP and user agent too.
    user_agent: overrides the caller's usual user agent (git for CodeCommit).
    """

    source: str
    name: str
    read_only: bool
    params: dict | None = None
    response: dict | None = None
    is_data_event: bool = False
    resources: tuple[dict, ...] = ()
    extra: dict | None = None
    host: str | None = ""
    via_service: str | None = None
    user_agent: str | None = None


@dataclass
class CallContext:
    """What a call shape may draw on: seeded randomness, the account and region
    the call lands in, the day, and the caller's session name."""

    rng: random.Random
    account: str
    region: str
    day: date
    session: str = ""


def random_uuid(rng: random.Random) -> str:
    """A seeded random UUID, as CloudTrail's ``eventID`` and ``requestID`` are."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def cloudtrail_text_time(moment: datetime) -> str:
    """How CloudTrail prints some times inside parameters: ``Nov 27, 2026, 3:04:05 PM``."""
    hour = moment.hour % 12 or 12
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M:%S} {'AM' if moment.hour < 12 else 'PM'}"


def function_arn(name: str, account: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def default_endpoint(source: str, region: str) -> str:
    """The endpoint host a client calls for an event source (IAM and STS are global)."""
    label = source.split(".")[0]
    return f"{label}.amazonaws.com" if label in ("iam", "sts") else f"{label}.{region}.amazonaws.com"


def fixed_call(source: str, name: str, read_only: bool, params: dict | None = None,
               response: dict | None = None) -> Callable[[CallContext], ApiCall]:
    """A call whose logged shape never varies."""
    call = ApiCall(source, name, read_only, params=params, response=response)
    return lambda context: call


def _s3_data_event_extra(bytes_in: int, bytes_out: int) -> dict:
    return {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": bytes_in,
            "bytesTransferredOut": bytes_out, "AuthenticationMethod": "AuthHeader"}


def s3_object_call(c: CallContext, name: str, bucket: str, key: str, size: int | None = None) -> ApiCall:
    """An S3 object data event: ``GetObject``, ``HeadObject`` or ``PutObject``."""
    is_read = name in ("GetObject", "HeadObject")
    size = c.rng.randint(2_000, 900_000) if size is None else size
    host = f"{bucket}.s3.{c.region}.amazonaws.com"
    return ApiCall(
        "s3.amazonaws.com", name, is_read,
        params={"bucketName": bucket, "Host": host, "key": key},
        response=None if is_read else {"x-amz-server-side-encryption": "AES256"},
        is_data_event=True,
        resources=(resource(f"arn:aws:s3:::{bucket}/{key}", "AWS::S3::Object"),
                   resource(f"arn:aws:s3:::{bucket}", "AWS::S3::Bucket", c.account)),
        extra=_s3_data_event_extra(0 if is_read else size, size if name == "GetObject" else 0),
        host=host,
    )


def s3_list_call(c: CallContext, bucket: str, prefix: str, event_name: str = "ListObjects",
                 list_type: str | None = "2") -> ApiCall:
    """A bucket listing. SDK ``ListObjectsV2`` calls are usually logged as
    ``ListObjects`` with ``list-type`` 2; ``event_name`` can say otherwise."""
    host = f"{bucket}.s3.{c.region}.amazonaws.com"
    params = {"bucketName": bucket, "Host": host, "prefix": prefix}
    if list_type:
        params["list-type"] = list_type
    return ApiCall(
        "s3.amazonaws.com", event_name, True, params=params, is_data_event=True,
        resources=(resource(f"arn:aws:s3:::{bucket}/{prefix}", "AWS::S3::Object"),
                   resource(f"arn:aws:s3:::{bucket}", "AWS::S3::Bucket", c.account)),
        extra=_s3_data_event_extra(0, c.rng.randint(400, 9_000)),
        host=host,
    )


def dynamodb_item_call(c: CallContext, name: str, table: str, key_attribute: str = "id") -> ApiCall:
    """A DynamoDB data event (``GetItem``, ``Query``, ``PutItem``); item values are hidden, as AWS logs them."""
    params: dict = {"tableName": table}
    if name == "Query":
        params |= {"keyConditionExpression": f"{key_attribute} = :v", "limit": 25}
    else:
        params["key"] = {key_attribute: "HIDDEN_DUE_TO_SECURITY_REASONS"}
    if name == "PutItem":
        params["item"] = [key_attribute]
    return ApiCall(
        "dynamodb.amazonaws.com", name, name != "PutItem", params=params, is_data_event=True,
        resources=(resource(f"arn:aws:dynamodb:{c.region}:{c.account}:table/{table}", "AWS::DynamoDB::Table",
                            c.account),),
    )


def bedrock_invoke_call(c: CallContext, model_id: str) -> ApiCall:
    # Runtime calls go to bedrock-runtime but are logged as bedrock.amazonaws.com management events.
    return ApiCall("bedrock.amazonaws.com", "InvokeModel", True, params={"modelId": model_id},
                   host=f"bedrock-runtime.{c.region}.amazonaws.com")


def logs_create_stream_call(c: CallContext, group: str) -> ApiCall:
    stream = f"{c.day:%Y/%m/%d}/[$LATEST]{c.rng.getrandbits(128):032x}"
    return ApiCall("logs.amazonaws.com", "CreateLogStream", False,
                   params={"logGroupName": group, "logStreamName": stream})


def athena_start_call(c: CallContext, workgroup: str, database: str, query: str) -> ApiCall:
    return ApiCall("athena.amazonaws.com", "StartQueryExecution", False,
                   params={"queryString": query, "workGroup": workgroup,
                           "queryExecutionContext": {"database": database}, "clientRequestToken": random_uuid(c.rng)},
                   response={"queryExecutionId": random_uuid(c.rng)})


def athena_query_call(c: CallContext, name: str) -> ApiCall:
    """``GetQueryResults`` or ``GetQueryExecution`` of some query."""
    return ApiCall("athena.amazonaws.com", name, True, params={"queryExecutionId": random_uuid(c.rng)})


def glue_get_table_call(c: CallContext, database: str, table: str, via_athena: bool = False) -> ApiCall:
    """Glue ``GetTable``; Athena makes it on the querying identity's behalf."""
    return ApiCall("glue.amazonaws.com", "GetTable", True, params={"databaseName": database, "name": table},
                   host=None if via_athena else "", via_service="athena.amazonaws.com" if via_athena else None)


def codecommit_git_call(c: CallContext, name: str, repository: str, git_version: str = "2.43.0") -> ApiCall:
    """A git pull or push over HTTPS (``GitPull`` / ``GitPush``), logged with git's user agent."""
    return ApiCall(
        "codecommit.amazonaws.com", name, name == "GitPull",
        extra={"protocol": "HTTP", "dataTransferred": c.rng.random() < 0.7, "repositoryName": repository,
               "repositoryId": stable_uuid("codecommit", c.account, repository),
               "capabilities": ["multi_ack_detailed", "side-band-64k", "thin-pack"]},
        resources=(resource(f"arn:aws:codecommit:{c.region}:{c.account}:{repository}",
                            "AWS::CodeCommit::Repository", c.account),),
        host=f"git-codecommit.{c.region}.amazonaws.com", user_agent=f"git/{git_version}",
    )


def lambda_invoke_call(c: CallContext, function: str) -> ApiCall:
    """A Lambda ``Invoke`` data event (IAM action ``lambda:InvokeFunction``)."""
    arn = function_arn(function, c.account, c.region)
    return ApiCall("lambda.amazonaws.com", "Invoke", False, params={"functionName": arn}, is_data_event=True,
                   resources=(resource(arn, "AWS::Lambda::Function", c.account),),
                   extra={"functionVersion": f"{arn}:$LATEST"})


def lambda_create_call(c: CallContext, function: str, role: str, artifact_bucket: str) -> ApiCall:
    """``CreateFunction20150331``; ``role`` is the ARN passed to the function (``iam:PassRole``)."""
    arn = function_arn(function, c.account, c.region)
    shape = {"runtime": "python3.12", "role": role, "handler": "app.handler", "timeout": 30, "memorySize": 256,
             "packageType": "Zip", "architectures": ["x86_64"]}
    return ApiCall(
        "lambda.amazonaws.com", "CreateFunction20150331", False,
        params={"functionName": function, **shape, "description": "", "publish": True,
                "code": {"s3Bucket": artifact_bucket, "s3Key": f"{function}/{c.day:%Y%m%d}.zip"}},
        response={"functionName": function, "functionArn": arn, **shape, "codeSize": c.rng.randint(4_000, 90_000),
                  "version": "1", "state": "Pending", "stateReasonCode": "Creating"},
    )


def lambda_update_code_call(c: CallContext, function: str, artifact_bucket: str) -> ApiCall:
    arn = function_arn(function, c.account, c.region)
    return ApiCall(
        "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", False,
        params={"functionName": function, "s3Bucket": artifact_bucket, "s3Key": f"{function}/{c.day:%Y%m%d}.zip",
                "publish": True, "dryRun": False},
        response={"functionName": function, "functionArn": arn, "lastUpdateStatus": "InProgress"},
    )


def lambda_get_call(c: CallContext, function: str) -> ApiCall:
    return ApiCall("lambda.amazonaws.com", "GetFunction20150331v2", True, params={"functionName": function})


def sqs_send_call(c: CallContext, queue: str) -> ApiCall:
    """An SQS ``SendMessage`` data event."""
    return ApiCall(
        "sqs.amazonaws.com", "SendMessage", False,
        params={"queueUrl": f"https://sqs.{c.region}.amazonaws.com/{c.account}/{queue}"}, is_data_event=True,
        response={"mD5OfMessageBody": f"{c.rng.getrandbits(128):032x}", "messageId": random_uuid(c.rng)},
        resources=(resource(f"arn:aws:sqs:{c.region}:{c.account}:{queue}", "AWS::SQS::Queue", c.account),),
    )


def cloudwatch_metric_data_call(c: CallContext, namespace: str, metric: str) -> ApiCall:
    # CloudWatch's event source is monitoring.amazonaws.com; its IAM prefix is cloudwatch.
    end = datetime.combine(c.day, time(), tzinfo=UTC)
    return ApiCall("monitoring.amazonaws.com", "GetMetricData", True, params={
        "metricDataQueries": [{"id": "m1", "metricStat": {"metric": {"namespace": namespace, "metricName": metric},
                                                          "period": 3600, "stat": "Sum"}}],
        "startTime": cloudtrail_text_time(end - timedelta(days=7)), "endTime": cloudtrail_text_time(end)})


def call_record(
    call: ApiCall,
    *,
    rng: random.Random,
    event_time: datetime,
    region: str,
    user_identity: Mapping,
    source_ip: str,
    user_agent: str,
    recipient_account: str,
    error_code: str | None = None,
    error_message: str | None = None,
    from_console: bool = False,
) -> dict:
    """The CloudTrail record of ``call`` made by ``user_identity``. A failed call
    (``error_code``) has no response elements; S3 request ids look like S3's."""
    if call.via_service:
        user_identity = {**user_identity, "invokedBy": call.via_service}
    host = None if call.host is None else (call.host or default_endpoint(call.source, region))
    is_s3 = call.source == "s3.amazonaws.com"
    return cloudtrail_record(
        event_time=event_time, event_source=call.source, event_name=call.name, region=region,
        user_identity=user_identity, source_ip=call.via_service or source_ip,
        user_agent=call.via_service or call.user_agent or user_agent,
        request_parameters=call.params, response_elements=None if error_code else call.response,
        additional_event_data=call.extra, event_id=random_uuid(rng),
        request_id=f"{rng.getrandbits(64):016X}" if is_s3 else random_uuid(rng),
        read_only=call.read_only, recipient_account=recipient_account,
        category="Data" if call.is_data_event else "Management", resources=call.resources,
        error_code=error_code, error_message=error_message, tls_host=host, from_console=from_console,
    )


# --- CloudTrail files ---------------------------------------------------------------


def cloudtrail_object_key(account: str, region: str, delivered_at: datetime, salt: str = "") -> str:
    """The S3 key CloudTrail gives a log file delivered at ``delivered_at``:
    ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`` then
    ``<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 letters and digits>.json.gz``."""
    stamp = delivered_at.strftime("%Y%m%dT%H%MZ")
    suffix = alnum_token(16, account, region, stamp, salt)
    return (
        f"AWSLogs/{account}/CloudTrail/{region}/{delivered_at:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{stamp}_{suffix}.json.gz"
    )


def cloudtrail_file_bytes(records: Sequence[Mapping], compresslevel: int = 6) -> bytes:
    """A delivery file's bytes: gzip (mtime 0, no file name) of ``{"Records": [...]}``."""
    return gzip.compress(json_bytes({"Records": list(records)}), compresslevel=compresslevel, mtime=0)


def write_cloudtrail_file(path: Path, records: Sequence[Mapping]) -> Path:
    """Write one CloudTrail delivery file."""
    path = _ensure_parent(Path(path))
    path.write_bytes(cloudtrail_file_bytes(records))
    return path


def _seconds_of_day(event_time: str) -> int:
    return int(event_time[11:13]) * 3600 + int(event_time[14:16]) * 60 + int(event_time[17:19])


def _delivery_batches(records: Iterable[Mapping], day: date, files_per_day: int) -> list[tuple[datetime, list]]:
    """Records grouped into ``files_per_day`` equal windows of the day; each
    non-empty window becomes one file, stamped 5 minutes before its end."""
    window_seconds = 86400 // files_per_day
    windows: list[list] = [[] for _ in range(files_per_day)]
    for record in records:
        windows[min(_seconds_of_day(record["eventTime"]) // window_seconds, files_per_day - 1)].append(record)
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    batches = []
    for index, window in enumerate(windows):
        if window:
            delivered_at = midnight + timedelta(seconds=window_seconds * (index + 1)) - _DELIVERY_LAG
            window.sort(key=lambda record: record["eventTime"])
            batches.append((delivered_at.replace(second=0), window))
    return batches


def _redeliver(batches: list[tuple[datetime, list]], event_ids: frozenset[str]) -> None:
    """Append a second copy of each record in ``event_ids`` to a neighbouring
    file, as CloudTrail occasionally delivers an event twice."""
    if not event_ids:
        return
    if len(batches) < 2:
        raise ValueError("a redelivered event needs a second file on the same day")
    copies: list[tuple[int, Mapping]] = []
    for index, (_, records) in enumerate(batches):
        target = index + 1 if index + 1 < len(batches) else index - 1
        copies.extend((target, record) for record in records if record["eventID"] in event_ids)
    for target, record in copies:
        batches[target][1].append(record)


def write_cloudtrail_day(
    root: Path,
    account: str,
    region: str,
    day: date,
    records: Iterable[Mapping],
    files_per_day: int,
    redelivered_event_ids: frozenset[str] = frozenset(),
) -> list[Path]:
    """Write one account-region-day of records as S3 delivery files under
    ``root``: up to ``files_per_day`` files (empty windows give none), each
    record in the file of its time window, and every record whose ``eventID``
    is in ``redelivered_event_ids`` delivered a second time in a neighbouring
    file. Returns the paths written, in delivery order."""
    batches = _delivery_batches(records, day, files_per_day)
    _redeliver(batches, redelivered_event_ids)
    paths = []
    for index, (delivered_at, batch) in enumerate(batches):
        key = cloudtrail_object_key(account, region, delivered_at, salt=str(index))
        paths.append(write_cloudtrail_file(Path(root) / key, batch))
    return paths


def write_json_lines(path: Path, records: Iterable[Mapping]) -> Path:
    """Write single records one per line (a CloudTrail Lake or Athena export)."""
    path = _ensure_parent(Path(path))
    path.write_bytes(b"".join(json_bytes(record) + b"\n" for record in records))
    return path


# --- identity inventory -------------------------------------------------------------


def inventory_cell(value: object) -> str:
    """How the inventory spells a value: empty for None, ``true``/``false``,
    ``YYYY-MM-DD`` for dates, ``YYYY-MM-DDTHH:MM:SSZ`` for timestamps."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return cloudtrail_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_inventory_csv(path: Path, rows: Iterable[Mapping[str, object]]) -> Path:
    """Write the identity inventory with exactly ``INVENTORY_COLUMNS``; a row
    may leave columns out (written empty) but may not add any."""
    path = _ensure_parent(Path(path))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(INVENTORY_COLUMNS)
        for row in rows:
            unknown = set(row) - set(INVENTORY_COLUMNS)
            if unknown:
                raise ValueError(f"unknown inventory columns: {sorted(unknown)}")
            writer.writerow([inventory_cell(row.get(column)) for column in INVENTORY_COLUMNS])
    return path

"""IAM for the local stack: every AWS call a function makes is allowed or denied by its role's
policies, as AWS would, before moto sees it (decision 0028; docs/operations.md, "IAM").

moto checks permissions only for IAM users it knows, with every resource as `*` and one
condition operator (StringEquals; any other condition passes). Our roles rest on resource ARNs
(tables, indexes, object keys, queues, secrets) and on `dynamodb:LeadingKeys`, so the launcher
evaluates them itself:

- The local runner registers each function's role (`POST /_local_iam/principals`: access key
  id -> role ARN, session name, inline policy documents resolved against the local resources,
  managed policy ARNs) and runs each function with that access key, as Lambda gives each
  function its role's temporary credentials.
- A request signed with a registered key becomes one or more (action, resource, context)
  checks, read from the request as IAM reads it: DynamoDB per table and per transaction item
  with the partition key values (`dynamodb:LeadingKeys`, an index's own key for an index
  query), S3 by bucket and object key (`s3:prefix` for listings), SQS by queue, Secrets
  Manager by secret ARN, SES v2 `SendEmail` by the sender's identity and the configuration set.
- A check passes when some Allow statement matches it and no Deny does (identity policies
  only; see `evaluate`). A denied request answers as AWS does (AccessDeniedException 400 for
  the JSON services, AccessDenied 403 for S3) and moto never sees it, so nothing is written.
- A presigned URL past its `X-Amz-Expires` is refused ("Request has expired", as S3 does;
  moto itself does not check), so evidence links are tested to expire.
- Requests with other keys (the runner provisioning and polling, the tests' own clients) pass
  unchecked; an unregistered key in the `ASIA` (temporary) range is refused, so a function
  never runs unchecked by mistake.

What is not modelled is refused with a message saying so, rather than allowed.
"""
import datetime
import functools
import io
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from xml.etree import ElementTree

from iam_policy import Check, NotModelled, as_list, evaluate, grant_units, statement_applies, units_used

ADMIN_PATH = "/_local_iam/principals"
USAGE_PATH = "/_local_iam/unused"


class Unknown(Exception):
    """The request names a table moto does not have (its key schema is unknown)."""


# ---------------------------------------------------------------- requests as IAM reads them


class Backends:
    """What the checks need from moto's state: a table's key attributes, a secret's ARN."""

    def __init__(self, account: str, region: str):
        self.account, self.region = account, region

    def hash_keys(self, table: str) -> tuple[str, dict]:
        """(the table's partition key attribute, {index name: its partition key attribute})."""
        from moto.dynamodb.models import dynamodb_backends

        try:
            t = dynamodb_backends[self.account][self.region].get_table(table)
        except Exception as e:  # moto's ResourceNotFoundException
            raise Unknown(table) from e
        indexes = {i.name: next(k["AttributeName"] for k in i.schema if k["KeyType"] == "HASH") for i in t.all_indexes()}
        return t.hash_key_attr, indexes

    def secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        from moto.secretsmanager.models import secretsmanager_backends

        try:
            return secretsmanager_backends[self.account][self.region].describe_secret(secret_id).arn
        except Exception:  # not found: checked as named (grants name ARNs), moto answers if allowed
            return secret_id


def _attribute(value: dict) -> str:
    (kind, raw), = value.items()
    return raw if kind in ("S", "N", "B") else json.dumps(raw)


def _partition_value_from_condition(body: dict, attribute: str) -> str:
    names = body.get("ExpressionAttributeNames") or {}
    values = body.get("ExpressionAttributeValues") or {}
    expression = body.get("KeyConditionExpression")
    if expression is None:
        condition = (body.get("KeyConditions") or {}).get(attribute)
        if not condition or condition.get("ComparisonOperator") != "EQ":
            raise NotModelled("a Query without an equality on the partition key")
        return _attribute(condition["AttributeValueList"][0])
    for clause in re.split(r"\s+AND\s+", expression.strip(), flags=re.IGNORECASE):
        match = re.fullmatch(r"\(?\s*([#\w.]+)\s*=\s*(:\w+)\s*\)?", clause.strip())
        if match and names.get(match.group(1), match.group(1)) == attribute:
            return _attribute(values[match.group(2)])
    raise NotModelled(f"the partition key in KeyConditionExpression {expression!r}")


def dynamodb_checks(operation: str, body: dict, backends: Backends) -> list:
    def arn(table, index=None):
        base = f"arn:aws:dynamodb:{backends.region}:{backends.account}:table/{table}"
        return f"{base}/index/{index}" if index else base

    def leading(table, items):
        try:
            hash_key, _ = backends.hash_keys(table)
        except Unknown:
            # A table moto lacks: every key value counts as a leading key, so a LeadingKeys
            # grant can only deny (never allow what AWS would not); an allowed call gets moto's
            # ResourceNotFoundException, as AWS answers an allowed call on a missing table.
            return {"dynamodb:leadingkeys": [_attribute(v) for item in items for v in item.values()]}
        return {"dynamodb:leadingkeys": [_attribute(item[hash_key]) for item in items]}

    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        table = body["TableName"]
        return [Check(f"dynamodb:{operation}", arn(table), leading(table, [body["Key"]]))]
    if operation == "PutItem":
        table = body["TableName"]
        return [Check("dynamodb:PutItem", arn(table), leading(table, [body["Item"]]))]
    if operation == "Query":
        table, index = body["TableName"], body.get("IndexName")
        try:
            table_key, index_keys = backends.hash_keys(table)
        except Unknown:  # as in `leading`: every value counts
            values = [_attribute(v) for v in (body.get("ExpressionAttributeValues") or {}).values()]
            return [Check("dynamodb:Query", arn(table, index), {"dynamodb:leadingkeys": values or [""]})]
        if index and index not in index_keys:
            raise NotModelled(f"a query of index {index}, which table {table} does not have")
        attribute = index_keys[index] if index else table_key
        value = _partition_value_from_condition(body, attribute)
        return [Check("dynamodb:Query", arn(table, index), {"dynamodb:leadingkeys": [value]})]
    if operation == "Scan":
        return [Check("dynamodb:Scan", arn(body["TableName"], body.get("IndexName")))]
    if operation == "BatchGetItem":
        return [
            Check("dynamodb:BatchGetItem", arn(table), leading(table, request["Keys"]))
            for table, request in body["RequestItems"].items()
        ]
    if operation == "BatchWriteItem":
        checks = []
        for table, requests in body["RequestItems"].items():
            items = [r["PutRequest"]["Item"] if "PutRequest" in r else r["DeleteRequest"]["Key"] for r in requests]
            checks.append(Check("dynamodb:BatchWriteItem", arn(table), leading(table, items)))
        return checks
    if operation in ("TransactWriteItems", "TransactGetItems"):
        actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
        checks = []
        for entry in body["TransactItems"]:
            (kind, op), = entry.items()
            item = op["Item"] if kind == "Put" else op["Key"]
            checks.append(Check(f"dynamodb:{actions[kind]}", arn(op["TableName"]), leading(op["TableName"], [item])))
        return checks
    if "TableName" in body:
        return [Check(f"dynamodb:{operation}", arn(body["TableName"]))]
    if operation in ("ListTables",):
        return [Check(f"dynamodb:{operation}", "*")]
    raise NotModelled(f"dynamodb:{operation}")


# Batch calls are authorised as their single-message actions (SQS Developer Guide, batch actions).
SQS_BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
             "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def sqs_checks(operation: str, params: dict, backends: Backends) -> list:
    def arn(name, account=backends.account):
        return f"arn:aws:sqs:{backends.region}:{account}:{name}"

    action = f"sqs:{SQS_BATCH.get(operation, operation)}"
    if "QueueUrl" in params:
        # https://host/<account>/<name>: the queue's own account, not the caller's.
        account, name = params["QueueUrl"].rstrip("/").split("/")[-2:]
        return [Check(action, arn(name, account))]
    if operation == "GetQueueUrl":
        return [Check("sqs:GetQueueUrl", arn(params["QueueName"], params.get("QueueOwnerAWSAccountId", backends.account)))]
    if operation == "ListQueues":
        return [Check("sqs:ListQueues", "*")]
    raise NotModelled(f"sqs:{operation}")


def secretsmanager_checks(operation: str, body: dict, backends: Backends) -> list:
    if "SecretId" in body:
        return [Check(f"secretsmanager:{operation}", backends.secret_arn(body["SecretId"]))]
    raise NotModelled(f"secretsmanager:{operation}")


def ses_checks(method: str, path: str, body: dict, backends: Backends) -> list:
    """SES v2 `SendEmail` as IAM authorises it: on the identity that sends and on the
    configuration set the call names, as `ses:SendEmail` and, for raw content, `ses:SendRawEmail`. The identity modelled is the From address's domain: the
    stack verifies a domain (an address verified as an identity of its own would be checked
    instead; none is)."""
    def arn(rest):
        return f"arn:aws:ses:{backends.region}:{backends.account}:{rest}"

    if method == "POST" and path == "/v2/email/outbound-emails":
        sender = body.get("FromEmailAddress") or ""
        if "@" not in sender:
            raise NotModelled("ses:SendEmail without FromEmailAddress (the identity is then read from the raw From)")
        # Raw content is authorised as ses:SendRawEmail as well (SES v2 SendEmail's IAM).
        actions = ["ses:SendEmail"] + (["ses:SendRawEmail"] if "Raw" in body.get("Content", {}) else [])
        resources = [arn(f"identity/{sender.rsplit('@', 1)[1]}")]
        if body.get("ConfigurationSetName"):
            resources.append(arn(f"configuration-set/{body['ConfigurationSetName']}"))
        return [Check(action, resource) for resource in resources for action in actions]
    raise NotModelled(f"ses {method} {path}")


def s3_checks(method: str, path: str, query: dict, headers: dict, body: bytes) -> list:
    """`path` is the request's path as sent (percent-encoded), decoded here once."""
    bucket, _, key = urllib.parse.unquote(path.lstrip("/")).partition("/")
    if not bucket:
        return [Check("s3:ListAllMyBuckets", "*")]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not key:
        if method in ("GET", "HEAD") and not (set(query) - {"list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "fetch-owner", "x-id"}):
            # No prefix is the empty one, as IAM evaluates s3:prefix.
            return [Check("s3:ListBucket", bucket_arn, {"s3:prefix": [query.get("prefix", "")]})]
        if method == "POST" and "delete" in query:
            keys = [e.text or "" for e in ElementTree.fromstring(body).iter() if e.tag.endswith("Key")]
            return [Check("s3:DeleteObject", f"{bucket_arn}/{k}") for k in keys]
        raise NotModelled(f"s3 {method} on a bucket with {sorted(query)}")
    object_arn = f"{bucket_arn}/{key}"
    extra = set(query) - {"uploadId", "partNumber", "uploads", "x-id"}
    if extra:  # versions (…ObjectVersion actions), ACLs, tagging, response-* overrides, …
        raise NotModelled(f"s3 {method} on an object with {sorted(extra)}")
    if method in ("GET", "HEAD"):
        return [Check("s3:ListMultipartUploadParts" if "uploadId" in query else "s3:GetObject", object_arn)]
    if method in ("PUT", "POST"):
        checks = [Check("s3:PutObject", object_arn)]
        if "x-amz-acl" in headers or any(h.startswith("x-amz-grant-") for h in headers):
            checks.append(Check("s3:PutObjectAcl", object_arn))
        if "x-amz-tagging" in headers:
            checks.append(Check("s3:PutObjectTagging", object_arn))
        source = headers.get("x-amz-copy-source")
        if source:
            source_path, _, source_query = source.lstrip("/").partition("?")
            if source_query:
                raise NotModelled("copying an object version")
            checks.append(Check("s3:GetObject", f"arn:aws:s3:::{urllib.parse.unquote(source_path)}"))
        return checks
    if method == "DELETE":
        return [Check("s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject", object_arn)]
    raise NotModelled(f"s3 {method}")


# ---------------------------------------------------------------- the WSGI layer


@dataclass
class Principal:
    arn: str  # the assumed-role session, as errors name it
    statements: list  # the inline ones first, then the managed policies'
    inline: int  # how many of them are the template's own
    policy_names: list  # the inline policy each of those came from
    used: set = field(default_factory=set)  # grant units some allowed call needed


@functools.cache
def _managed_policies() -> dict:
    """AWS's managed policy documents, as moto ships them (a few MB of JSON: parsed once)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def _managed(arn: str) -> list:
    name = arn.rsplit("/", 1)[-1]
    if name not in _managed_policies():
        raise NotModelled(f"managed policy {arn}")
    return as_list(_managed_policies()[name]["Document"]["Statement"])


def _scope(environ) -> list:
    """The credential scope's parts (key id, date, region, service, `aws4_request`), from the
    Authorization header or a presigned URL's query."""
    match = re.search(r"Credential=([^,\s]+)", environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1).split("/")
    return urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0].split("/")


def _presigned_expired(environ, now=None) -> str | None:
    """Why a presigned URL (`X-Amz-Date` + `X-Amz-Expires`) is no longer valid, as S3 refuses it
    ("Request has expired", 403 AccessDenied); None for any other request. moto does not check."""
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    signed, lifetime = query.get("X-Amz-Date", [""])[0], query.get("X-Amz-Expires", [""])[0]
    if not signed or not lifetime:
        return None
    try:
        start = datetime.datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        seconds = int(lifetime)
    except ValueError:
        return "the presigned URL's X-Amz-Date or X-Amz-Expires does not parse"
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now > start + datetime.timedelta(seconds=seconds):
        return f"Request has expired (signed {signed}, valid {seconds} s)"
    return None


def _access_key(environ) -> str | None:
    return _scope(environ)[0] or None


def _service(environ) -> str:
    parts = _scope(environ)
    return parts[3] if len(parts) > 3 else ""


def _region(environ) -> str:
    parts = _scope(environ)
    return parts[2] if len(parts) > 2 else "us-east-1"


class EnforceIam:
    """WSGI middleware in front of moto (see the module's text)."""

    def __init__(self, app, account: str = "123456789012"):
        self.app, self.account = app, account
        self.principals: dict[str, Principal] = {}
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == ADMIN_PATH and environ.get("REQUEST_METHOD") == "POST":
            return self._register(environ, start_response)
        if environ.get("PATH_INFO") == USAGE_PATH and environ.get("REQUEST_METHOD") == "GET":
            return self._usage(start_response)
        key = _access_key(environ)
        with self.lock:
            principal = self.principals.get(key) if key else None
        if principal is None:
            if key and key.startswith("ASIA") and self.principals:
                return self._deny(environ, start_response, None, None, f"The security token included in the request is invalid (unregistered key {key})", code="UnrecognizedClientException")
            return self.app(environ, start_response)
        expired = _presigned_expired(environ)
        if expired:
            return self._deny(environ, start_response, principal, None, expired)
        body = environ["wsgi.input"].read()
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        try:
            checks = self._checks(environ, body)
            for check in checks:
                allowed, why = evaluate(principal.statements, check)
                if not allowed:
                    return self._deny(environ, start_response, principal, check, why)
            missing = self._missing_object_check(environ, checks)
            if missing:
                allowed, why = evaluate(principal.statements, missing)
                if not allowed:
                    return self._deny(environ, start_response, principal, missing, why)
                checks.append(missing)
        except NotModelled as e:
            return self._deny(environ, start_response, principal, None, f"the local IAM check does not model {e}")
        self._record(principal, checks)
        return self.app(environ, start_response)

    def _missing_object_check(self, environ, checks: list):
        """Reading a key that does not exist needs s3:ListBucket too: without it S3 answers 403
        AccessDenied, not 404, so a caller cannot learn which keys exist."""
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or len(checks) != 1 or checks[0].action != "s3:GetObject":
            return None
        from moto.s3.models import s3_backends

        bucket, _, key = checks[0].resource.removeprefix("arn:aws:s3:::").partition("/")
        try:
            found = s3_backends[self.account]["aws"].get_object(bucket, key)
        except Exception:  # no such bucket: moto answers
            return None
        return None if found else Check("s3:ListBucket", f"arn:aws:s3:::{bucket}")

    def _record(self, principal: Principal, checks: list) -> None:
        used = set()
        for index, statement in enumerate(principal.statements[: principal.inline]):
            for check in checks:
                if statement_applies(statement, check):
                    used.update((index, *unit) for unit in units_used(statement, check))
        with self.lock:
            principal.used |= used

    def _usage(self, start_response):
        """Per function: the template's grants no allowed call has needed so far."""
        with self.lock:
            report = {
                p.arn: [
                    {"policy": p.policy_names[i], "statement": i, "action": a, "resource": r,
                     "resource_index": as_list(s["Resource"]).index(r), "leading_keys": k}
                    for i, s in enumerate(p.statements[: p.inline])
                    for a, r, k in grant_units(s)
                    if (i, a, r, k) not in p.used
                ]
                for p in self.principals.values()
            }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(report, indent=1).encode()]

    def _checks(self, environ, body: bytes) -> list:
        try:
            return self._read(environ, body)
        except (KeyError, ValueError, IndexError, TypeError, AttributeError, ElementTree.ParseError) as e:
            raise NotModelled(f"this request (unreadable: {e!r})") from e

    def _read(self, environ, body: bytes) -> list:
        """The checks of one request. moto routes by the service the request is signed for, so
        that decides here too, and a target naming another service is refused."""
        backends = Backends(self.account, _region(environ))
        scope = _service(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        prefix, _, operation = target.partition(".")
        expected = {"dynamodb": "DynamoDB_", "sqs": "AmazonSQS", "secretsmanager": "secretsmanager"}
        if target and not prefix.startswith(expected.get(scope, "\0")):
            raise NotModelled(f"a {scope} request with target {target}")
        if scope == "dynamodb" and target:
            return dynamodb_checks(operation, json.loads(body or b"{}"), backends)
        if scope == "sqs" and target:
            return sqs_checks(operation, json.loads(body or b"{}"), backends)
        if scope == "secretsmanager" and target:
            return secretsmanager_checks(operation, json.loads(body or b"{}"), backends)
        if scope == "ses" and not target:
            return ses_checks(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), json.loads(body or b"{}"), backends)
        if scope == "s3":
            query = {k: v[0] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
            query = {k: v for k, v in query.items() if not k.startswith("X-Amz-")}
            headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
            if headers.get("host", "").split(".", 1)[0] not in ("127", "localhost") and ".s3." in headers.get("host", ""):
                raise NotModelled("virtual-hosted S3 addressing")
            raw = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?", 1)[0]
            return s3_checks(environ["REQUEST_METHOD"], raw or "/", query, headers, body)
        if scope == "sqs" and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
            return sqs_checks(form.get("Action", ""), form, backends)
        raise NotModelled(f"this request ({scope or 'unsigned'} {target or environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')})")

    def _register(self, environ, start_response):
        try:
            given = json.loads(environ["wsgi.input"].read() or b"{}")
            principals = {}
            for key, spec in given.items():
                statements, names = [], []
                for index, policy in enumerate(spec.get("policies") or []):
                    document = policy.get("PolicyDocument", policy)  # CloudFormation's shape, or a bare document
                    for statement in as_list(document.get("Statement", [])):
                        statements.append(statement)
                        names.append(policy.get("PolicyName", f"policy{index}"))
                inline = len(statements)
                for arn in spec.get("managed_policy_arns") or []:
                    statements += _managed(arn)
                principals[key] = Principal(arn=spec["arn"], statements=statements, inline=inline, policy_names=names)
        except (ValueError, KeyError, NotModelled) as e:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [f"bad principals: {e}\n".encode()]
        with self.lock:
            self.principals.update(principals)
        start_response("204 No Content", [])
        return [b""]

    def _deny(self, environ, start_response, principal, check, why, code=None):
        who = principal.arn if principal else "an unknown principal"
        if check:
            message = f"User: {who} is not authorized to perform: {check.action} on resource: {check.resource} because {why}"
        else:
            message = f"User: {who} is not authorized: {why}"
        print(f"IAM denied: {message}", flush=True)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            error = code or ("AccessDeniedException" if not target.startswith("AmazonSQS") else "AccessDenied")
            headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "local-iam")]
            if target.startswith("AmazonSQS"):
                headers.append(("x-amzn-query-error", f"{error};Sender"))
            shape = "com.amazon.coral.service#" + (error if error != "AccessDenied" else "AccessDeniedException")
            start_response("400 Bad Request", headers)
            return [json.dumps({"__type": shape, "message": message, "Message": message}).encode()]
        if _service(environ) == "ses":
            # REST-JSON (SES v2): the error type in a header, 403.
            error = code or "AccessDeniedException"
            start_response("403 Forbidden", [("Content-Type", "application/json"), ("x-amzn-ErrorType", error), ("x-amzn-RequestId", "local-iam")])
            return [json.dumps({"message": message}).encode()]
        error = code or "AccessDenied"
        start_response("403 Forbidden", [("Content-Type", "application/xml"), ("x-amz-request-id", "local-iam")])
        xml = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{error}</Code><Message>{_xml_escape(message)}</Message><RequestId>local-iam</RequestId></Error>"
        return [xml.encode()]


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

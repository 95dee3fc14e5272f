"""Unit tests of the local IAM evaluator (scripts/iam_policy.py, scripts/moto_iam.py): allow, deny and condition cases,
and requests read as IAM reads them. Run by scripts/test: python -m unittest scripts/test_moto_iam.py"""
import datetime
import io
import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from iam_policy import Check, NotModelled, evaluate  # noqa: E402
from moto_iam import Backends, EnforceIam, Unknown, _presigned_expired, dynamodb_checks, s3_checks, ses_checks, sqs_checks  # noqa: E402
from moto_ses import SesOutbox  # noqa: E402

TABLE = "arn:aws:dynamodb:eu-central-1:123456789012:table/t"


def allow(action, resource, condition=None):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


LISTINGS_ONLY = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LISTING#*", "SEARCH#*"]}}


class Evaluate(unittest.TestCase):
    def test_an_allow_matches_action_and_resource(self):
        self.assertTrue(evaluate([allow("dynamodb:GetItem", TABLE)], Check("dynamodb:GetItem", TABLE))[0])

    def test_nothing_allows_is_the_implicit_deny(self):
        allowed, why = evaluate([allow("dynamodb:GetItem", TABLE)], Check("dynamodb:PutItem", TABLE))
        self.assertFalse(allowed)
        self.assertIn("no identity-based policy allows the dynamodb:PutItem action", why)

    def test_another_resource_is_denied(self):
        self.assertFalse(evaluate([allow("dynamodb:GetItem", TABLE)], Check("dynamodb:GetItem", TABLE + "2"))[0])
        self.assertFalse(evaluate([allow("dynamodb:Query", TABLE)], Check("dynamodb:Query", TABLE + "/index/GSI1"))[0])

    def test_wildcards_in_actions_are_case_insensitive_in_resources_not(self):
        self.assertTrue(evaluate([allow("DynamoDB:Get*", TABLE)], Check("dynamodb:GetItem", TABLE))[0])
        self.assertTrue(evaluate([allow("s3:GetObject", "arn:aws:s3:::b/uploads/*")], Check("s3:GetObject", "arn:aws:s3:::b/uploads/x/y"))[0])
        self.assertFalse(evaluate([allow("s3:GetObject", "arn:aws:s3:::b/uploads/*")], Check("s3:GetObject", "arn:aws:s3:::b/Uploads/x"))[0])
        self.assertTrue(evaluate([allow("sqs:*", "arn:aws:sqs:*:*:q?")], Check("sqs:SendMessage", "arn:aws:sqs:r:1:q1"))[0])

    def test_an_explicit_deny_wins(self):
        statements = [allow("dynamodb:*", "*"), {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE}]
        self.assertFalse(evaluate(statements, Check("dynamodb:DeleteItem", TABLE))[0])
        self.assertTrue(evaluate(statements, Check("dynamodb:PutItem", TABLE))[0])

    def test_not_action_and_not_resource(self):
        statements = [{"Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "NotResource": TABLE + "2"}]
        self.assertTrue(evaluate(statements, Check("dynamodb:PutItem", TABLE))[0])
        self.assertFalse(evaluate(statements, Check("dynamodb:DeleteItem", TABLE))[0])
        self.assertFalse(evaluate(statements, Check("dynamodb:PutItem", TABLE + "2"))[0])

    def test_leading_keys_for_all_values(self):
        statements = [allow("dynamodb:PutItem", TABLE, LISTINGS_ONLY)]
        ok = Check("dynamodb:PutItem", TABLE, {"dynamodb:leadingkeys": ["LISTING#1", "SEARCH#all"]})
        mixed = Check("dynamodb:PutItem", TABLE, {"dynamodb:leadingkeys": ["LISTING#1", "BOOKING#1"]})
        self.assertTrue(evaluate(statements, ok)[0])
        self.assertFalse(evaluate(statements, mixed)[0])

    def test_for_all_values_holds_for_an_absent_key_for_any_value_does_not(self):
        # As in IAM: why LeadingKeys policies must not grant Scan.
        self.assertTrue(evaluate([allow("dynamodb:Scan", TABLE, LISTINGS_ONLY)], Check("dynamodb:Scan", TABLE))[0])
        any_value = {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["X"]}}
        self.assertFalse(evaluate([allow("dynamodb:Scan", TABLE, any_value)], Check("dynamodb:Scan", TABLE))[0])

    def test_single_valued_conditions(self):
        prefix = {"StringLike": {"s3:prefix": "uploads/listings/*"}}
        statements = [allow("s3:ListBucket", "arn:aws:s3:::b", prefix)]
        self.assertTrue(evaluate(statements, Check("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["uploads/listings/1/p"]}))[0])
        self.assertFalse(evaluate(statements, Check("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["media/"]}))[0])
        self.assertFalse(evaluate(statements, Check("s3:ListBucket", "arn:aws:s3:::b"))[0], "an absent key fails a positive operator")
        not_like = [allow("s3:ListBucket", "*", {"StringNotLike": {"s3:prefix": "secret/*"}})]
        self.assertTrue(evaluate(not_like, Check("s3:ListBucket", "arn:aws:s3:::b"))[0], "and passes a negated one")
        if_exists = [allow("s3:ListBucket", "*", {"StringLikeIfExists": {"s3:prefix": "a*"}})]
        self.assertTrue(evaluate(if_exists, Check("s3:ListBucket", "arn:aws:s3:::b"))[0])
        self.assertFalse(evaluate(if_exists, Check("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["b"]}))[0])

    def test_every_condition_must_hold(self):
        both = {"StringLike": {"s3:prefix": "a*"}, "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["X#*"]}}
        self.assertTrue(evaluate([allow("x:Y", "*", both)], Check("x:Y", "r", {"s3:prefix": ["ab"], "dynamodb:leadingkeys": ["X#1"]}))[0])
        self.assertFalse(evaluate([allow("x:Y", "*", both)], Check("x:Y", "r", {"s3:prefix": ["ab"], "dynamodb:leadingkeys": ["Y#1"]}))[0])

    def test_what_it_does_not_know_is_refused_not_passed(self):
        for condition in (
            {"NumericLessThan": {"s3:prefix": "3"}},  # an operator it does not implement
            {"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},  # a key no reader fills in
            {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["PK"]}},
            {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},  # a policy variable
        ):
            with self.assertRaises(NotModelled, msg=str(condition)):
                evaluate([allow("x:Y", "*", condition)], Check("x:Y", "r", {"s3:prefix": ["1"]}))


class FakeBackends(Backends):
    def __init__(self):
        super().__init__("123456789012", "eu-central-1")

    def hash_keys(self, table):
        return "PK", {"GSI1": "GSI1PK"}


def s(v):
    return {"S": v}


class DynamoRequests(unittest.TestCase):
    backends = FakeBackends()

    def test_single_item_calls_carry_their_partition_key(self):
        (check,) = dynamodb_checks("PutItem", {"TableName": "t", "Item": {"PK": s("LISTING#1"), "SK": s("A")}}, self.backends)
        self.assertEqual((check.action, check.resource), ("dynamodb:PutItem", TABLE))
        self.assertEqual(check.context, {"dynamodb:leadingkeys": ["LISTING#1"]})

    def test_a_transaction_is_one_check_per_item(self):
        body = {"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"PK": s("LISTING#1"), "SK": s("D")}}},
            {"Update": {"TableName": "t", "Key": {"PK": s("BOOKING#1"), "SK": s("B")}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"PK": s("USER#1"), "SK": s("P")}}},
        ]}
        checks = dynamodb_checks("TransactWriteItems", body, self.backends)
        self.assertEqual([c.action for c in checks], ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"])
        self.assertEqual([c.context["dynamodb:leadingkeys"] for c in checks], [["LISTING#1"], ["BOOKING#1"], ["USER#1"]])
        statements = [allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], TABLE, LISTINGS_ONLY)]
        self.assertFalse(all(evaluate(statements, c)[0] for c in checks), "one item outside the grant denies the transaction")

    def test_an_index_query_is_checked_on_the_index_with_its_own_key(self):
        body = {"TableName": "t", "IndexName": "GSI1", "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :p)",
                "ExpressionAttributeNames": {"#pk": "GSI1PK", "#sk": "GSI1SK"},
                "ExpressionAttributeValues": {":pk": s("OWNER#u1"), ":p": s("LISTING#")}}
        (check,) = dynamodb_checks("Query", body, self.backends)
        self.assertEqual(check.resource, TABLE + "/index/GSI1")
        self.assertEqual(check.context, {"dynamodb:leadingkeys": ["OWNER#u1"]})

    def test_a_table_query_names_the_partition_key_directly_or_by_key_conditions(self):
        body = {"TableName": "t", "KeyConditionExpression": "PK = :v", "ExpressionAttributeValues": {":v": s("SEARCH#x")}}
        self.assertEqual(dynamodb_checks("Query", body, self.backends)[0].context["dynamodb:leadingkeys"], ["SEARCH#x"])
        legacy = {"TableName": "t", "KeyConditions": {"PK": {"ComparisonOperator": "EQ", "AttributeValueList": [s("USER#1")]}}}
        self.assertEqual(dynamodb_checks("Query", legacy, self.backends)[0].context["dynamodb:leadingkeys"], ["USER#1"])

    def test_batch_get_lists_every_key_per_table(self):
        body = {"RequestItems": {"t": {"Keys": [{"PK": s("LISTING#1"), "SK": s("A")}, {"PK": s("LISTING#1"), "SK": s("PHOTO#2")}]}}}
        (check,) = dynamodb_checks("BatchGetItem", body, self.backends)
        self.assertEqual((check.action, check.context["dynamodb:leadingkeys"]), ("dynamodb:BatchGetItem", ["LISTING#1", "LISTING#1"]))


class OtherRequests(unittest.TestCase):
    def test_s3_keys_are_decoded_once_and_what_is_not_modelled_is_refused(self):
        self.assertEqual(s3_checks("GET", "/b/%2570ublic/x", {}, {}, b"")[0].resource, "arn:aws:s3:::b/%70ublic/x")
        self.assertEqual(s3_checks("GET", "/b/k", {"uploadId": "1"}, {}, b"")[0].action, "s3:ListMultipartUploadParts")
        self.assertEqual([c.action for c in s3_checks("PUT", "/b/k", {}, {"x-amz-acl": "public-read"}, b"")], ["s3:PutObject", "s3:PutObjectAcl"])
        for query in ({"versionId": "1"}, {"response-content-type": "x"}):
            with self.assertRaises(NotModelled):
                s3_checks("GET", "/b/k", query, {}, b"")
        (listing,) = s3_checks("GET", "/b", {"list-type": "2"}, {}, b"")
        self.assertEqual(listing.context, {"s3:prefix": [""]}, "no prefix is the empty one")

    def test_s3_objects_and_listings(self):
        self.assertEqual([(c.action, c.resource) for c in s3_checks("PUT", "/b/uploads/listings/1/p.jpg", {}, {}, b"")],
                         [("s3:PutObject", "arn:aws:s3:::b/uploads/listings/1/p.jpg")])
        (listing,) = s3_checks("GET", "/b", {"list-type": "2", "prefix": "uploads/listings/1/"}, {}, b"")
        self.assertEqual((listing.action, listing.resource, listing.context), ("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["uploads/listings/1/"]}))
        self.assertEqual(s3_checks("HEAD", "/b/k%20x", {}, {}, b"")[0].resource, "arn:aws:s3:::b/k x")
        body = b"<Delete><Object><Key>m/1</Key></Object><Object><Key>m/2</Key></Object></Delete>"
        self.assertEqual([c.resource for c in s3_checks("POST", "/b", {"delete": ""}, {}, body)], ["arn:aws:s3:::b/m/1", "arn:aws:s3:::b/m/2"])
        with self.assertRaises(NotModelled):
            s3_checks("PUT", "/b/k", {"acl": ""}, {}, b"")

    def test_sqs_by_queue_url_with_batches_as_their_single_actions(self):
        (check,) = sqs_checks("SendMessage", {"QueueUrl": "http://127.0.0.1:5000/123456789012/q-events"}, FakeBackends())
        self.assertEqual((check.action, check.resource), ("sqs:SendMessage", "arn:aws:sqs:eu-central-1:123456789012:q-events"))
        (batch,) = sqs_checks("DeleteMessageBatch", {"QueueUrl": "http://127.0.0.1:5000/210987654321/q"}, FakeBackends())
        self.assertEqual((batch.action, batch.resource), ("sqs:DeleteMessage", "arn:aws:sqs:eu-central-1:210987654321:q"))

    def test_a_table_moto_lacks_can_only_be_denied_by_leading_keys(self):
        class NoTables(FakeBackends):
            def hash_keys(self, table):
                raise Unknown(table)

        (check,) = dynamodb_checks("GetItem", {"TableName": "t", "Key": {"PK": s("LISTING#1"), "SK": s("A")}}, NoTables())
        self.assertFalse(evaluate([allow("dynamodb:GetItem", TABLE, LISTINGS_ONLY)], check)[0])
        self.assertTrue(evaluate([allow("dynamodb:GetItem", TABLE)], check)[0])


def call(app, environ_extra, body=b""):
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "wsgi.input": io.BytesIO(body)}
    environ.update(environ_extra)
    status = []
    out = b"".join(app(environ, lambda s, h: status.append((s, dict(h)))))
    return status[0][0], status[0][1], out


class Middleware(unittest.TestCase):
    def setUp(self):
        self.reached = []

        def moto(environ, start_response):
            self.reached.append(environ["wsgi.input"].read())
            start_response("200 OK", [])
            return [b"{}"]

        self.app = EnforceIam(moto)
        spec = {"ASIAFUNCTION1": {"arn": "arn:aws:sts::123456789012:assumed-role/r/f", "policies": [
            {"Statement": [allow("sqs:SendMessage", "arn:aws:sqs:eu-central-1:123456789012:allowed")]}]}}
        status, _, _ = call(self.app, {"PATH_INFO": "/_local_iam/principals"}, json.dumps(spec).encode())
        self.assertEqual(status, "204 No Content")

    def sqs(self, key, queue):
        body = json.dumps({"QueueUrl": f"http://127.0.0.1/123456789012/{queue}", "MessageBody": "x"}).encode()
        auth = f"AWS4-HMAC-SHA256 Credential={key}/20261130/eu-central-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
        return call(self.app, {"HTTP_AUTHORIZATION": auth, "HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}, body)

    def test_an_allowed_call_reaches_moto_with_its_body(self):
        status, _, _ = self.sqs("ASIAFUNCTION1", "allowed")
        self.assertEqual(status, "200 OK")
        self.assertIn(b'"MessageBody"', self.reached[0])

    def test_a_denied_call_answers_as_aws_and_never_reaches_moto(self):
        status, headers, body = self.sqs("ASIAFUNCTION1", "other")
        self.assertEqual(status, "400 Bad Request")
        self.assertEqual(headers["x-amzn-query-error"], "AccessDenied;Sender")
        self.assertIn("not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:eu-central-1:123456789012:other", json.loads(body)["message"])
        self.assertEqual(self.reached, [])

    def test_grants_no_allowed_call_needed_are_reported(self):
        spec = {"ASIAFUNCTION2": {"arn": "f2", "policies": [{"Statement": [
            allow(["dynamodb:PutItem", "dynamodb:DeleteItem"], TABLE, LISTINGS_ONLY)]}]}}
        call(self.app, {"PATH_INFO": "/_local_iam/principals"}, json.dumps(spec).encode())
        self.app._record(self.app.principals["ASIAFUNCTION2"], [
            Check("dynamodb:PutItem", TABLE, {"dynamodb:leadingkeys": ["LISTING#1"]})])
        _, _, body = call(self.app, {"REQUEST_METHOD": "GET", "PATH_INFO": "/_local_iam/unused"})
        unused = {(u["action"], u["leading_keys"]) for u in json.loads(body)["f2"]}
        self.assertEqual(unused, {("dynamodb:PutItem", "SEARCH#*"), ("dynamodb:DeleteItem", "LISTING#*"), ("dynamodb:DeleteItem", "SEARCH#*")})

    def test_a_presigned_url_is_refused_once_expired_as_s3_does(self):
        def presigned(minutes_ago):
            signed = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)).strftime("%Y%m%dT%H%M%SZ")
            query = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAFUNCTION1%2F20261130%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date={signed}&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=0"
            return {"REQUEST_METHOD": "GET", "PATH_INFO": "/bkt/evidence/a", "RAW_URI": "/bkt/evidence/a?" + query, "QUERY_STRING": query}
        status, _, body = call(self.app, presigned(6))
        self.assertEqual(status, "403 Forbidden", "five minutes have passed")
        self.assertIn(b"Request has expired", body)
        self.assertEqual(self.reached, [])
        self.assertIsNone(_presigned_expired(presigned(4)), "still valid")

    def test_a_target_for_another_service_than_signed_for_is_refused(self):
        auth = "AWS4-HMAC-SHA256 Credential=ASIAFUNCTION1/20261130/eu-central-1/s3/aws4_request, SignedHeaders=host, Signature=0"
        status, _, _ = call(self.app, {"REQUEST_METHOD": "PUT", "PATH_INFO": "/bkt/secret", "RAW_URI": "/bkt/secret",
                                       "HTTP_AUTHORIZATION": auth, "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, b'{"TableName": "nope"}')
        self.assertEqual(status, "400 Bad Request")
        self.assertEqual(self.reached, [])

    def ses(self, key, sender):
        body = json.dumps({"FromEmailAddress": sender, "ConfigurationSetName": "cs", "Content": {"Raw": {"Data": "eA=="}}}).encode()
        auth = f"AWS4-HMAC-SHA256 Credential={key}/20261130/eu-central-1/ses/aws4_request, SignedHeaders=host, Signature=0"
        return call(self.app, {"REQUEST_METHOD": "POST", "PATH_INFO": "/v2/email/outbound-emails", "HTTP_AUTHORIZATION": auth}, body)

    def test_ses_send_needs_the_identity_and_the_configuration_set(self):
        identity = "arn:aws:ses:eu-central-1:123456789012:identity/mail.example.com"
        config_set = "arn:aws:ses:eu-central-1:123456789012:configuration-set/cs"
        self.assertEqual([c.resource for c in ses_checks("POST", "/v2/email/outbound-emails",
                          {"FromEmailAddress": "n@mail.example.com", "ConfigurationSetName": "cs"}, FakeBackends())], [identity, config_set])
        raw = ses_checks("POST", "/v2/email/outbound-emails", {"FromEmailAddress": "n@mail.example.com", "Content": {"Raw": {}}}, FakeBackends())
        self.assertEqual([c.action for c in raw], ["ses:SendEmail", "ses:SendRawEmail"], "raw content is both")
        spec = {"ASIAMAILER1": {"arn": "mailer", "policies": [{"Statement": [allow(["ses:SendEmail", "ses:SendRawEmail"], [identity])]}]}}
        call(self.app, {"PATH_INFO": "/_local_iam/principals"}, json.dumps(spec).encode())
        status, headers, body = self.ses("ASIAMAILER1", "n@mail.example.com")
        self.assertEqual((status, headers["x-amzn-ErrorType"]), ("403 Forbidden", "AccessDeniedException"), "the set is not granted")
        self.assertIn("configuration-set/cs", json.loads(body)["message"])
        self.assertEqual(self.reached, [])
        with self.assertRaises(NotModelled):
            ses_checks("DELETE", "/v2/email/identities/x", {}, FakeBackends())
        spec = {"ASIAMAILER2": {"arn": "mailer2", "policies": [{"Statement": [allow(["ses:SendEmail", "ses:SendRawEmail"], [identity, config_set])]}]}}
        call(self.app, {"PATH_INFO": "/_local_iam/principals"}, json.dumps(spec).encode())
        self.assertEqual(self.ses("ASIAMAILER2", "n@mail.example.com")[0], "200 OK", "both granted")
        self.assertEqual(len(self.reached), 1)
        self.assertEqual(self.ses("ASIAMAILER2", "n@other.example.com")[0], "403 Forbidden", "another identity")

    def test_admin_keys_pass_and_unknown_temporary_keys_do_not(self):
        self.assertEqual(self.sqs("LOCALADMIN", "other")[0], "200 OK")
        self.assertEqual(self.sqs("ASIAUNKNOWN", "allowed")[0], "400 Bad Request")


class SesSentMail(unittest.TestCase):
    def test_the_launcher_lists_what_moto_sent_in_the_region(self):
        from moto.ses.models import ses_backends

        backend = ses_backends["123456789012"]["eu-west-3"]
        backend.verify_domain("mail.example.com")
        raw = "From: n@mail.example.com\r\nTo: ada@example.com\r\nSubject: Hi\r\n\r\nbody"
        backend.send_raw_email("n@mail.example.com", ["ada@example.com"], raw)
        app = SesOutbox(lambda environ, start_response: self.fail("not passed on"))
        status, _, body = call(app, {"REQUEST_METHOD": "GET", "PATH_INFO": "/_local_ses/messages", "QUERY_STRING": "region=eu-west-3"})
        (message,) = json.loads(body)
        self.assertEqual(status, "200 OK")
        self.assertEqual((message["destinations"], message["raw_data"]), (["ada@example.com"], raw))


if __name__ == "__main__":
    unittest.main()

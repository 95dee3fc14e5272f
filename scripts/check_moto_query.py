"""Checks that moto_serialized.py's faster Query and its faster serialization of item reads
answer exactly as moto's own, and that its SQS message counts are moto's.

Builds a table shaped like ours (PK/SK, two GSIs, items in many partitions, some without the
index keys, some with every attribute type DynamoDB has) in moto's in-process mock, then runs
200 random queries (table key and indexes, sort-key conditions, both directions, limits,
paging, filters, projections; with writes that move index keys, delete and add items every
50 queries) and 60 GetItem / BatchGetItem calls twice: with the patches and with moto's
original methods. Then a FIFO and a standard queue get messages sent, delayed, received (in
flight) and deleted, and after each step the three counts `GetQueueAttributes` reports are read
with the patched and moto's own properties. Any difference fails the check.

Usage: python scripts/check_moto_query.py
"""
import os
import random
import sys

import boto3
from moto import mock_aws

sys.path.insert(0, os.path.dirname(__file__))
import moto_serialized  # noqa: E402  (patches Table.query on import)
from moto.dynamodb.models.table import Table  # noqa: E402
from moto.dynamodb.responses import DynamoResult  # noqa: E402
from moto.sqs.models import Queue  # noqa: E402

patched_counts = {name: getattr(Queue, name) for name in moto_serialized._COUNTS}

TABLE = "check"


def build(client, rng):
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "GSI1", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"}, {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]},
            {"IndexName": "GSI2", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "GSI2PK", "KeyType": "HASH"}]},
        ],
    )
    for p in range(40):
        for s in rng.sample(range(100), rng.randint(0, 25)):
            item = {"PK": {"S": f"P#{p:02}"}, "SK": {"S": rng.choice(["A", "B", "DAY"]) + f"#{s:03}"},
                    "n": {"N": str(rng.randint(0, 9))}}
            if rng.random() < 0.7:
                item["GSI1PK"] = {"S": f"G#{rng.randint(0, 5)}"}
                item["GSI1SK"] = {"S": f"{rng.randint(0, 50):03}"}
            if rng.random() < 0.5:
                item["GSI2PK"] = {"S": f"H#{rng.randint(0, 3)}"}
            if rng.random() < 0.3:  # every other attribute type, binary ones included
                item.update({"m": {"M": {"k": {"L": [{"S": "é\"\\"}, {"N": "-1.50"}, {"BOOL": False}]}}}, "z": {"NULL": True},
                             "b": {"B": bytes(rng.sample(range(256), 5))}, "bs": {"BS": [b"\x00", b"\xff\x01"]},
                             "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "t": {"BOOL": True}})
            client.put_item(TableName=TABLE, Item=item)


def random_query(rng):
    index = rng.choice([None, None, "GSI1", "GSI2"])
    values = {}
    if index is None:
        cond, values[":h"] = "PK = :h", {"S": f"P#{rng.randint(0, 41):02}"}
        sk = "SK"
    elif index == "GSI1":
        cond, values[":h"] = "GSI1PK = :h", {"S": f"G#{rng.randint(0, 6)}"}
        sk = "GSI1SK"
    else:
        cond, values[":h"] = "GSI2PK = :h", {"S": f"H#{rng.randint(0, 4)}"}
        sk = None
    if sk:
        kind = rng.choice(["none", "begins", "between", "gt"])
        if kind == "begins":
            cond += f" AND begins_with({sk}, :a)"
            values[":a"] = {"S": rng.choice(["A", "B", "DAY", "0", "1"])}
        elif kind == "between":
            a, b = sorted(rng.sample(["A#010", "A#050", "B#000", "B#090", "DAY#020", "010", "030"], 2))
            cond += f" AND {sk} BETWEEN :a AND :b"
            values[":a"], values[":b"] = {"S": a}, {"S": b}
        elif kind == "gt":
            cond += f" AND {sk} > :a"
            values[":a"] = {"S": rng.choice(["B", "DAY#050", "020"])}
    q = {"TableName": TABLE, "KeyConditionExpression": cond, "ExpressionAttributeValues": values,
         "ScanIndexForward": rng.random() < 0.5}
    if index:
        q["IndexName"] = index
    if rng.random() < 0.5:
        q["Limit"] = rng.randint(1, 12)
    if rng.random() < 0.3:
        q["FilterExpression"] = "n > :n"
        values[":n"] = {"N": str(rng.randint(0, 9))}
    if rng.random() < 0.2:
        q["ProjectionExpression"] = "PK, SK, n"
    return q


def all_pages(client, q):
    pages, query = [], dict(q)
    while True:
        page = client.query(**query)
        pages.append((page["Items"], page.get("Count"), page.get("ScannedCount"), page.get("LastEvaluatedKey")))
        if "LastEvaluatedKey" not in page or len(pages) > 50:
            return pages
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def random_reads(client, rng):
    """GetItem and BatchGetItem calls of random keys (most exist, some not), as calls to make."""
    keys = [{"PK": i["PK"], "SK": i["SK"]} for i in client.scan(TableName=TABLE)["Items"]]
    missing = [{"PK": {"S": "P#99"}, "SK": {"S": "A#000"}}]
    reads = []
    for _ in range(40):
        key = rng.choice(keys + missing)
        reads.append(lambda key=key: client.get_item(TableName=TABLE, Key=key))
    for _ in range(20):
        batch = rng.sample(keys, rng.randint(1, 20)) + missing
        reads.append(lambda batch=batch: client.batch_get_item(RequestItems={TABLE: {"Keys": batch}}))
    return reads


def change_items(client, rng):
    """Writes between queries: index keys moved, items deleted and added (the index grouping
    the launcher caches must follow every one)."""
    items = client.scan(TableName=TABLE)["Items"]
    for item in rng.sample(items, 30):
        key = {"PK": item["PK"], "SK": item["SK"]}
        if rng.random() < 0.3:
            client.delete_item(TableName=TABLE, Key=key)
        else:
            client.update_item(TableName=TABLE, Key=key, UpdateExpression="SET GSI1PK = :g, GSI1SK = :s",
                               ExpressionAttributeValues={":g": {"S": f"G#{rng.randint(0, 6)}"}, ":s": {"S": f"{rng.randint(0, 50):03}"}})
    for n in range(10):
        client.put_item(TableName=TABLE, Item={"PK": {"S": f"P#{rng.randint(0, 41):02}"}, "SK": {"S": f"A#{100 + n}"}, "n": {"N": "5"},
                                               "GSI1PK": {"S": f"G#{rng.randint(0, 6)}"}, "GSI1SK": {"S": "999"}, "GSI2PK": {"S": "H#1"}})


def without_metadata(answer):
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def queue_count_differences(rng) -> int:
    """Sends, delays, receives and deletes on two queues; compares the counts at each step."""
    sqs = boto3.client("sqs", region_name="eu-central-1", aws_access_key_id="test", aws_secret_access_key="test")
    fifo = sqs.create_queue(QueueName="check.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    plain = sqs.create_queue(QueueName="check")["QueueUrl"]
    counts = [f"ApproximateNumberOfMessages{s}" for s in ("", "Delayed", "NotVisible")]
    differences = 0
    for step in range(40):
        entries = [{"Id": str(i), "MessageBody": f"{step}-{i}"} for i in range(rng.randint(1, 10))]
        sqs.send_message_batch(QueueUrl=fifo, Entries=[dict(e, MessageGroupId=str(rng.randint(1, 4)),
                                                           MessageDeduplicationId=f"{step}-{e['Id']}") for e in entries])
        sqs.send_message_batch(QueueUrl=plain, Entries=[dict(e, DelaySeconds=rng.choice([0, 0, 60])) for e in entries])
        for url in (fifo, plain):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=rng.randint(1, 5), VisibilityTimeout=rng.choice([0, 60]))
            for m in got.get("Messages", [])[: rng.randint(0, 2)]:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            answers = []
            for originals in (False, True):
                for name in moto_serialized._COUNTS:
                    setattr(Queue, name, moto_serialized._moto_counts[name] if originals else patched_counts[name])
                answers.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"])
            if answers[0] != answers[1]:
                differences += 1
                print(f"counts differ at step {step}: patched {answers[0]}, moto {answers[1]}", file=sys.stderr)
    for name in moto_serialized._COUNTS:
        setattr(Queue, name, patched_counts[name])
    return differences


def main() -> int:
    rng = random.Random(20261122)
    patched_query, patched_result = Table.query, DynamoResult.execute_result

    def patches(on):
        Table.query = patched_query if on else moto_serialized._moto_query
        DynamoResult.execute_result = patched_result if on else moto_serialized._moto_execute_result

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1", aws_access_key_id="test", aws_secret_access_key="test")
        build(client, rng)
        queries = [random_query(rng) for _ in range(200)]
        reads = random_reads(client, rng)
        failures = 0
        for i, q in enumerate(queries):
            if i % 50 == 49:
                change_items(client, rng)
            patches(True)
            ours = all_pages(client, q)
            patches(False)
            theirs = all_pages(client, q)
            if ours != theirs:
                failures += 1
                print(f"differs: {q}\n  patched: {ours}\n  moto:    {theirs}", file=sys.stderr)
        for read in reads:
            patches(True)
            ours = without_metadata(read())
            patches(False)
            theirs = without_metadata(read())
            if ours != theirs:
                failures += 1
                print(f"differs:\n  patched: {ours}\n  moto:    {theirs}", file=sys.stderr)
        patches(True)
        queue_failures = queue_count_differences(rng)
    print(f"moto patches: {len(queries)} random queries and {len(reads)} item reads, {failures} differing from moto's own; "
          f"queue counts at 80 steps, {queue_failures} differing")
    failures += queue_failures
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

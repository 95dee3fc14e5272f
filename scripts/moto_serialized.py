"""Starts moto server on 127.0.0.1 with DynamoDB requests serialized and transactions that
do not copy whole tables.

moto's server is threaded, but its DynamoDB backend is not thread-safe: a TransactWriteItems
deep-copies the table while another thread writes to it (RuntimeError -> HTTP 500), and two
conditional writes racing on one item can both pass their checks. Real DynamoDB makes every
single-item write and every transaction atomic, and our correctness rules (no double booking,
exactly-once event records) depend on that. So every DynamoDB call runs under one lock here;
other services (SQS long polls, S3 uploads) stay concurrent.

moto's TransactWriteItems also deep-copies the whole table once per item in the transaction
(its rollback plan), which makes a write O(table size) and a 250-listing test minutes long.
`transact_write_items` below keeps moto's semantics (unicity, conditions, cancellation
reasons per item) but checks every condition before changing anything and backs up only
the items it touches. Under the lock that is as atomic as DynamoDB's own transactions.

moto's Query starts from `all_items()`, which lists and sorts the whole table on every call,
then keeps the queried partition (or, for an index, filters and re-sorts). That made a
one-partition read O(table log table): 150 ms and more once a benchmark had created a
thousand listings, where DynamoDB answers in milliseconds. `query` below hands moto's own
query code only the candidates it would keep: the partition for the table's key, the items with
the queried index key for an index, unsorted (moto checks and sorts what it keeps itself). Conditions,
filters, limits and paging stay moto's. Finding an index's items still walks the table, so they
are grouped by index key once and reused until the next DynamoDB call that is not a read.

moto 5 serializes every answer by walking the operation's output shape value by value, which
took two thirds of a 21-item Query (17 ms of it, in-process). The item reads' answers
(`Query`, `GetItem`, `BatchGetItem`, `Scan`) are plain JSON already, and that serializer
writes exactly `json.dumps` of them (binary values base64-encoded), so `execute_result` below
writes them so: 6 ms for the same Query. Anything `json.dumps` cannot write (say, a type a
later moto adds) goes to moto's serializer as before. `check_moto_query.py` compares both
patches with moto's own answers.

moto's HTTP server (werkzeug's) answers every request with `Connection: close`, and after
each response it reads and discards whatever else arrives within 10 ms (an unread request
body, so the client sees the response rather than a reset). So every AWS SDK call against moto
opened a new TCP connection, where AWS's endpoints keep connections alive and the SDK reuses
them; in the benchmarks that reconnecting was part of the functions' CPU per call.
`KeepAliveRequestHandler` reads each request's body (by its Content-Length) before moto sees
it, so nothing is ever left unread; for those requests it skips the discard (which would eat
the next request on the connection) and keeps the connection open. Requests with a chunked
body, or a Content-Length it cannot parse, are handled and closed exactly as before.

moto's SQS reads a FIFO queue's `ContentBasedDeduplication` from `Queue.attributes`, which
first counts the queue's visible, delayed and in-flight messages, reading the clock once per
message and count; it does so several times for each message sent. A batch of 10 took 110 ms
once a queue held 100 messages and 600 ms at a few hundred, and long waits cost the
benchmarked functions CPU. The counts below read the clock once per count: the same numbers
(taken at one instant, where moto's clock moved along the count) and 13-20 ms a batch.

Usage: python scripts/moto_serialized.py PORT
"""
import base64
import inspect
import io
import json
import os
import selectors
import sys
import threading

import werkzeug.serving
from werkzeug.serving import run_simple

from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.core.utils import unix_time_millis
from moto.sqs.models import Queue

from moto_iam import EnforceIam
from moto_ses import SesOutbox


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen = set()
    plan = []  # (op_type, op, table_name, key, current item)
    errors = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        if op_type == "Put":
            table = self.get_table(table_name)
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        marker = (str(table_name), str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = self.get_item(table_name, key)
        error = (None, None, None)
        expression = op.get("ConditionExpression")
        if expression is not None:
            condition = get_filter_expression(expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
            if not condition.expr(current):
                old = current.to_json()["Attributes"] if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                error = ("ConditionalCheckFailed", str(ConditionalCheckFailed().message), old)
        errors.append(error)
        plan.append((op_type, op, table_name, key, current))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    applied = []
    try:
        for op_type, op, table_name, key, current in plan:
            backup = current.to_json()["Attributes"] if current is not None else None
            if op_type == "Put":
                self.put_item(table_name, op["Item"])
            elif op_type == "Delete":
                self.delete_item(table_name, key)
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=op.get("ExpressionAttributeNames"),
                    expression_attribute_values=op.get("ExpressionAttributeValues"),
                )
            else:
                continue
            applied.append((table_name, key, backup))
    except Exception:
        for table_name, key, backup in reversed(applied):
            if backup is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, backup)
        raise


DynamoDBBackend.transact_write_items = transact_write_items

_moto_query = Table.query
_QUERY_SIGNATURE = inspect.signature(_moto_query)


def _unsorted_items(table):
    if not table.range_key_attr:
        return list(table.items.values())
    return [item for partition in table.items.values() for item in partition.values()]


# Index partitions (string hash keys), grouped once per table version: every DynamoDB call
# but the reads below counts as a change and drops the grouping, so between writes a run of
# index queries does not walk the whole table each (a benchmark's owner with 1,000 listings
# in a 30,000-item table: ~20 ms a query).
_READS = {"Query", "Scan", "GetItem", "BatchGetItem", "TransactGetItems", "DescribeTable", "ListTables", "DescribeTimeToLive",
          "DescribeContinuousBackups", "ListTagsOfResource", "DescribeLimits", "DescribeEndpoints"}
_changes = 0
_index_groups = {}  # (table, index name) -> (_changes when grouped, {hash key: [items]})
_moto_call_action = DynamoHandler.call_action


def call_action(self):
    global _changes
    read = self._get_action() in _READS
    if not read:
        _changes += 1
    try:
        return _moto_call_action(self)
    finally:
        if not read:
            _changes += 1


DynamoHandler.call_action = call_action


def _index_partition(table, index_name, hash_key):
    """The items whose index key equals `hash_key` (moto checks them again), else every item."""
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    hash_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"] if index else []
    if hash_key is None or len(hash_attrs) != 1:
        return _unsorted_items(table)
    attr = hash_attrs[0]
    if hash_key.type != "S":
        return [item for item in _unsorted_items(table) if attr in item.attrs and item.attrs[attr] == hash_key]
    grouped = _index_groups.get((id(table), index_name))
    if grouped is None or grouped[0] != _changes:
        groups = {}
        for item in _unsorted_items(table):
            value = item.attrs.get(attr)
            if value is not None and value.type == "S":
                groups.setdefault(value.value, []).append(item)
        grouped = (_changes, groups)
        _index_groups[(id(table), index_name)] = grouped
    return list(grouped[1].get(hash_key.value, []))


def _partition(table, hash_key):
    partition = table.items.get(hash_key)  # .get: items is a defaultdict
    if partition is None:
        return []
    if not table.range_key_attr:
        return [partition]
    return list(partition.values())


def query(self, *args, **kwargs):
    arguments = _QUERY_SIGNATURE.bind(self, *args, **kwargs).arguments
    hash_key, index_name = arguments.get("hash_key"), arguments.get("index_name")
    if index_name:
        candidates = _index_partition(self, index_name, hash_key)
    elif hash_key is not None:
        candidates = _partition(self, hash_key)
    else:
        return _moto_query(self, *args, **kwargs)
    # Shadows the method for this call only; every DynamoDB request holds the lock below.
    self.all_items = lambda: candidates
    try:
        return _moto_query(self, *args, **kwargs)
    finally:
        del self.all_items


Table.query = query


_moto_execute_result = DynamoResult.execute_result
# The reads that answer with items: their results are plain JSON already (moto's own
# serializer writes exactly `json.dumps` of them, blobs base64-encoded), so they skip it.
_FAST_SERIALIZED = {"Query", "GetItem", "BatchGetItem", "Scan"}


def _blob(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)  # anything else: moto's serializer decides


def execute_result(self, context):
    if context.operation_model.name in _FAST_SERIALIZED:
        try:
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result, default=_blob)
        except TypeError:
            pass
    return _moto_execute_result(self, context)


DynamoResult.execute_result = execute_result


_request = threading.local()  # per handler thread: is the current request's body fully read?


class _NothingToDiscard:
    """What werkzeug's post-response discard loop selects on when the body was read in full."""

    def register(self, *args):
        pass

    def select(self, timeout=None):
        return []

    def close(self):
        pass


class _Selectors:
    """werkzeug.serving's `selectors`, with the discard skipped for fully read requests."""

    def __getattr__(self, name):
        return getattr(selectors, name)

    def DefaultSelector(self):  # noqa: N802  (the name werkzeug calls)
        return _NothingToDiscard() if getattr(_request, "body_read", False) else selectors.DefaultSelector()


werkzeug.serving.selectors = _Selectors()


class KeepAliveRequestHandler(MotoRequestHandler):
    # werkzeug writes a response's headers and body separately: with Nagle's algorithm on, the
    # body would wait for the client's delayed ACK (~40 ms) on a connection that stays open.
    disable_nagle_algorithm = True

    def make_environ(self):
        _request.body_read = False
        environ = super().make_environ()
        if "wsgi.input_terminated" in environ:  # chunked: werkzeug reads it, then we close
            return environ
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit():
            return environ
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(length)))
        _request.body_read = True
        return environ

    def send_header(self, keyword, value):
        if keyword.lower() == "connection" and value.lower() == "close" and getattr(_request, "body_read", False):
            return
        super().send_header(keyword, value)


def _count_messages(keep):
    """A queue's count of the messages `keep(message, now)` holds for, at one `now`."""
    def count(queue):
        now = unix_time_millis()
        return sum(1 for m in queue._messages if keep(m, now))
    return property(count)


_COUNTS = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
           "approximate_number_of_messages_not_visible")
_moto_counts = {name: getattr(Queue, name) for name in _COUNTS}
# moto's definitions (`Message.visible`, `Message.delayed`, `Queue.messages`), one clock read.
Queue.approximate_number_of_messages = _count_messages(lambda m, now: now > m.visible_at and not now < m.delayed_until)
Queue.approximate_number_of_messages_delayed = _count_messages(lambda m, now: now < m.delayed_until)
Queue.approximate_number_of_messages_not_visible = _count_messages(lambda m, now: not now > m.visible_at)


class SerializeDynamoDB:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Consume the response inside the lock: moto builds it eagerly, but be sure.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 4566
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    # Each function's role is checked first (moto_iam.py): a denied call never reaches moto.
    # SES's sent mail is listed for the runner (moto_ses.py).
    app = SesOutbox(EnforceIam(SerializeDynamoDB(app)))
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=KeepAliveRequestHandler)


if __name__ == "__main__":
    main()

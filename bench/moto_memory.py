"""The moto server's memory under failed transactions, without the app: does it grow per
request, or only with data?

    .venv/bin/python bench/moto_memory.py               # infra.moto_server (patched)
    .venv/bin/python bench/moto_memory.py --unpatched   # python -m moto.server, as it was

A table of 2,000 items of 2 KB with a NEW_AND_OLD_IMAGES stream; then rounds of `--ops`
operations by 10 clients, each a GetItem, a TransactWriteItems whose condition fails, a
new shard iterator and a GetRecords with it. No data is added, so any growth is per
request. Prints the server's RSS after each round; stops past --max-rss-mb.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unpatched", action="store_true", help="run `python -m moto.server` itself")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--ops", type=int, default=1000, help="operations per round (default 1000)")
    parser.add_argument("--max-rss-mb", type=int, default=4000)
    args = parser.parse_args()

    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError, EndpointConnectionError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    module = "moto.server" if args.unpatched else "infra.moto_server"
    server = subprocess.Popen([sys.executable, "-m", module, "-H", "127.0.0.1", "-p", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                           "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"})
        options = {"region_name": "us-east-1", "endpoint_url": f"http://127.0.0.1:{port}",
                   "config": Config(max_pool_connections=20, retries={"max_attempts": 10})}
        dynamodb = boto3.client("dynamodb", **options)
        streams = boto3.client("dynamodbstreams", **options)
        for _ in range(100):
            try:
                dynamodb.list_tables()
                break
            except EndpointConnectionError:  # not listening yet
                time.sleep(0.1)
        dynamodb.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        for n in range(2000):
            dynamodb.put_item(TableName="t", Item={"pk": {"S": f"p{n}"}, "sk": {"S": "A"}, "body": {"S": "x" * 2000}})
        arn = dynamodb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        print(f"{module}: 2,000 items loaded, RSS {rss_mib(server.pid)} MiB", flush=True)

        def operation(n: int) -> None:
            key = {"pk": {"S": f"p{n % 2000}"}, "sk": {"S": "A"}}
            dynamodb.get_item(TableName="t", Key=key)
            with contextlib.suppress(ClientError):  # it fails: the item exists
                dynamodb.transact_write_items(TransactItems=[{"Put": {
                    "TableName": "t", "Item": {**key, "body": {"S": "y"}},
                    "ConditionExpression": "attribute_not_exists(pk)"}}])
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                  ShardIteratorType="LATEST")["ShardIterator"]
            streams.get_records(ShardIterator=iterator)

        for round_ in range(args.rounds):
            started = time.monotonic()
            with ThreadPoolExecutor(10) as pool:
                list(pool.map(operation, range(args.ops)))
            rss = rss_mib(server.pid)
            print(f"round {round_ + 1}: {args.ops} operations in {time.monotonic() - started:.1f} s, "
                  f"RSS {rss} MiB", flush=True)
            if rss > args.max_rss_mb:
                print(f"stopped: past {args.max_rss_mb} MiB")
                break
    finally:
        server.kill()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

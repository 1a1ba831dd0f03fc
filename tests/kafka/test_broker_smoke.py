"""The test broker answers as Kafka: what is produced to a fresh topic is consumed back, in order per key."""

from __future__ import annotations

from collections.abc import Callable

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # type: ignore[import-untyped]

from tests.kafka_broker import KafkaTopic, tansu_broker


def _produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=False)
    try:
        for key, value in messages:
            producer.send(topic, key=key, value=value).get(timeout=30)
    finally:
        producer.close()


def _consume(topic: KafkaTopic, expected: int) -> list[tuple[int, bytes, bytes]]:
    consumer = KafkaConsumer(
        bootstrap_servers=topic.bootstrap,
        group_id=topic.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=3000,
        heartbeat_interval_ms=500,
        max_poll_interval_ms=10000,
    )
    consumer.subscribe([topic.name])
    got: list[tuple[int, bytes, bytes]] = []
    try:
        for _ in range(200):
            for records in consumer.poll(timeout_ms=500).values():
                got.extend((r.partition, r.key, r.value) for r in records)
            if len(got) >= expected:
                break
        consumer.commit()
    finally:
        consumer.close()
    return got


def test_produced_messages_come_back_in_order_per_key(kafka_topic: KafkaTopic) -> None:
    messages = [(f"s{i % 5}".encode(), f"{i}".encode()) for i in range(50)]
    _produce(kafka_topic.bootstrap, kafka_topic.name, messages)
    got = _consume(kafka_topic, len(messages))
    assert sorted(v for _, _, v in got) == sorted(v for _, v in messages)
    for key in {k for k, _ in messages}:
        assert [v for _, k, v in got if k == key] == [v for k, v in messages if k == key]
        assert len({p for p, k, _ in got if k == key}) == 1  # one key, one partition


def test_topics_have_the_partition_count_asked_for(new_kafka_topic: Callable[[int], KafkaTopic]) -> None:
    topic = new_kafka_topic(2)
    consumer = KafkaConsumer(bootstrap_servers=topic.bootstrap)
    try:
        assert consumer.partitions_for_topic(topic.name) == {0, 1}
        first = TopicPartition(topic.name, 0)
        assert consumer.beginning_offsets([first]) == {first: 0}
    finally:
        consumer.close()


def test_a_private_broker_stops_within_its_grace() -> None:
    with tansu_broker() as broker:
        _produce(broker.bootstrap, "private", [(b"k", b"v")])
        process = broker.process
    assert process.poll() is not None

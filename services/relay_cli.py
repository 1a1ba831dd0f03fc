"""`mastery relay-reset`: publish the event log to Kafka again, from a chosen
position, after a topic was deleted and recreated (or emptied by a broker
that lost its data), so that the projection workers can catch up."""

from __future__ import annotations

from typing import Annotated

import typer


def relay_reset(
    from_position: Annotated[
        int,
        typer.Option(
            "--from",
            help="publish again every event at this log position and after (default: the whole log)",
            min=1,
        ),
    ] = 1,
) -> None:
    """Make the relay publish the event log again from --from (a running relay takes it up within a second).

    Needs MASTERY_DATABASE_URL (the relay's position is kept there, beside the
    log). With MASTERY_KAFKA_BOOTSTRAP set, the topic is created first if it
    does not exist. Workers drop the events they have applied already (each
    record carries its stream version), so republishing too much costs time,
    never correctness.
    """
    from infra.kafka_clients import KafkaError, ensure_topic
    from infra.relay_log import published_of, reset
    from services.cli_store import die, existing_settings

    settings = existing_settings(None)
    if settings.database_url is None:
        die("mastery relay-reset needs MASTERY_DATABASE_URL: the relay publishes the PostgreSQL event log")
    topic = settings.kafka_topic
    before = published_of(settings.database_url, topic)
    if settings.kafka_bootstrap:
        try:
            if ensure_topic(settings.kafka_bootstrap, topic, settings.kafka_partitions):
                print(f"mastery: created topic {topic} with {settings.kafka_partitions} partitions")
        except KafkaError as e:
            die(f"the Kafka broker in MASTERY_KAFKA_BOOTSTRAP does not answer: {type(e).__name__}")
    now = reset(settings.database_url, topic, from_position - 1)
    had = "nothing" if before is None else f"up to position {before.position}"
    print(
        f"mastery: the relay of topic {topic} will publish every event from position {now.position + 1} "
        f"again (it had published {had})"
    )

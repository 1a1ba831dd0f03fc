"""Wires adapters to services for one process (cosmicpython's bootstrap)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from infra.access_log import AccessRecorder
from infra.eventstore import LedgerStore, open_event_store
from infra.keys import StudentKeys
from infra.learning_log import StoreLearningLog
from infra.readstore import open_read_store, open_reader
from infra.roster_log import StoreAggregateLog
from infra.settings import Settings
from infra.tokens import TokenStore
from infra.tracking import KAFKA, LOG, reached_position
from infra.trust import adopt_read_store_secrets, open_trust_store
from services.catalog import Catalog
from services.ingest.roster import RosterWriter
from services.ingest.writer import EventWriter
from services.projections.base import Projection
from services.projections.bulk_load import adopt_first_topics
from services.projections.catalog import CatalogProjection
from services.projections.mastery import MasteryProjection
from services.projections.runner import ProjectionRunner


@dataclass
class Ledger:
    settings: Settings
    store: LedgerStore
    engine: Engine
    catalog: Catalog
    writer: EventWriter
    roster: RosterWriter
    runner: ProjectionRunner
    tokens: TokenStore
    trust: Engine  # the trust store (infra/trust.py): keys, secrets, tokens, access log
    keys: StudentKeys
    access: AccessRecorder  # writes the access log in batches (infra/access_log.py)
    reader: Engine  # what requests read through (services/http.py ReadDep)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def builder(self) -> Callable[[Settings], Ledger]:
        """How another process wires its own (a rebuild's workers)."""
        return build_ledger

    @property
    def projection_names(self) -> list[str]:
        return [p.name for p in self.runner.projections]

    def read_position(self, conn: Connection) -> int:
        return reached_position(conn, self.projection_names, self.runner.kind)

    def start_projections(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.runner.run, args=(self._stop,), name="projections", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.tokens.close()  # its last-use writes, before the engine goes
        self.access.close()  # the reads not written yet, before the trust store goes
        if self.reader is not self.engine:
            self.reader.dispose()
        self.engine.dispose()
        self.trust.dispose()
        self.store.factory.close()


def build_ledger(settings: Settings) -> Ledger:
    store = open_event_store(settings)
    engine = open_read_store(settings)
    trust = open_trust_store(settings)
    adopt_read_store_secrets(settings, engine, trust)
    catalog = Catalog(store)
    keys = StudentKeys(trust)

    projections: list[Projection] = [CatalogProjection(), MasteryProjection()]
    runner = ProjectionRunner(store, engine, projections, settings.projection_batch_size)
    # With Kafka, what reads reflect is what every partition's workers applied.
    runner.kind = KAFKA if settings.kafka_bootstrap else LOG
    adopt_first_topics(store, engine, projections, settings)
    token = settings.bootstrap_token.get_secret_value() if settings.bootstrap_token else None
    return Ledger(
        settings=settings,
        store=store,
        engine=engine,
        catalog=catalog,
        writer=EventWriter(StoreLearningLog(store), catalog, keys),
        roster=RosterWriter(StoreAggregateLog(store), keys),
        runner=runner,
        tokens=TokenStore(trust, token),
        trust=trust,
        keys=keys,
        access=AccessRecorder(trust),
        reader=open_reader(settings, engine),
    )

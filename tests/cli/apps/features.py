"""An app that uses every feature ``vincent asyncapi`` documents: typed and untyped
function handlers, plain ``def`` and ``async def``, pydantic models (nested, shared,
optional and enum fields), dataclasses, TypedDicts, typed and untyped Services, bytes
replies, cast-only handlers, wildcard keys, every ``route_to``, queue options, and two
listeners on one key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from vincent_core import Message, Service, Vincent

__version__ = "2.1.0"

app = Vincent("amqp://deploy:s3cret@rabbit.example:5671/prod", exchange="features")


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Owner(BaseModel):
    name: str
    email: str | None = None


class Job(BaseModel):
    """A unit of work."""

    id: int = Field(ge=1, description="the job's number")
    owner: Owner
    priority: Priority = Priority.LOW
    tags: list[str] = []
    due: dt.datetime | None = None


class JobAccepted(BaseModel):
    id: int
    owner: Owner
    queued_at: dt.datetime


@dataclasses.dataclass
class Resize:
    width: int
    height: int


class Stats(TypedDict):
    count: int
    mean: float


@app.listen("jobs.submit", queue="jobs.submit.queue", ttl=60, queue_type="quorum")
async def submit(job: Job, msg: Message) -> JobAccepted:
    """Accept a job.

    The job is queued and its owner told when it starts."""
    return JobAccepted(id=job.id, owner=job.owner, queued_at=dt.datetime.now(dt.UTC))


@app.listen("images.resize")
def resize(size: Resize) -> bytes:
    """Render a blank image of the given size (a plain def: a worker thread)."""
    return bytes(size.width * size.height)


@app.listen("stats.compute")
async def compute(numbers: list[float]) -> Stats:
    """Count and average some numbers."""
    return {"count": len(numbers), "mean": sum(numbers) / len(numbers) if numbers else 0.0}


@app.listen("audit.#", route_to="all")
async def audit(msg: Message) -> None:
    """Every process logs every audit event (untyped, cast only)."""


@app.listen("jobs.*.done", route_to="host")
async def job_done(job: Job) -> None:
    """Each host hears when a job finishes (typed, cast only)."""


@app.listen("legacy.echo")
async def echo(msg: Message) -> Any:
    """Untyped: answers with whatever it got."""
    return msg.body


@app.listen("legacy.echo", queue="legacy.echo.mirror")
async def mirror(msg: Message) -> dict[str, Any]:
    return {"mirrored": msg.body}


class OwnerLookup(Service):
    """Find a job's owner (a typed Service)."""

    bind_to = "jobs.owner"

    async def handle_call(self, job: Job) -> Owner:
        return job.owner


class Cleanup(Service):
    """Clean up after a job (an untyped Service, casts only)."""

    bind_to = "jobs.cleanup"

    async def handle_cast(self) -> None:
        pass


app.include(OwnerLookup)
app.include(Cleanup)

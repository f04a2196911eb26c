"""Shared helpers of the S3 rules: bucket posture facts joined with the sampled objects' scans.

The S3 connector reports one :class:`~scanner.facts.BucketPosture` per bucket (its fields, and the
order in which they decide public access) and one :class:`~scanner.facts.ObjectPosture` in each
sampled object's scan (its encryption and, when it holds personal data, its ACL).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from scanner.facts import BucketPosture, ObjectPosture, of_type
from scanner.model import Match, Resource, ResourceScan
from scanner.policy import Grade, Policy
from scanner.rule import TargetScan, plaintext_by_entity

MAX_EXAMPLES = 10


def object_fact(scan: ResourceScan) -> ObjectPosture | None:
    found = of_type(scan.facts, ObjectPosture)
    return found[0] if found else None


@dataclass
class GradedObject:
    """A sampled object holding graded plaintext personal data."""

    scan: ResourceScan
    found: dict[str, tuple[Grade, list[Match]]]

    @property
    def grade(self) -> Grade:
        return max((g for g, _ in self.found.values()), key=lambda g: g.rank)

    @property
    def encryption(self) -> str | None:
        fact = object_fact(self.scan)
        return fact.encryption if fact else None


@dataclass
class BucketView:
    """One bucket's posture and its sampled objects with graded data."""

    posture: BucketPosture
    connector: str
    graded: list[GradedObject] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.posture.bucket

    @property
    def resource(self) -> Resource:
        """The resource bucket-level findings are attached to."""
        uri = self.posture.uri
        return Resource(uri=uri, kind="bucket", display_name=uri, connector=self.connector, logical_name=uri,
                        logical_kind="resource", metadata={"bucket": self.name})

    def top(self, objects: Iterable[GradedObject] | None = None) -> tuple[Grade, str, list[Match]] | None:
        """The highest grade among ``objects`` (default: all graded), its entity and sample matches."""
        best: tuple[Grade, str, list[Match]] | None = None
        for obj in self.graded if objects is None else objects:
            for entity, (grade, matches) in obj.found.items():
                if best is None or (grade.rank, entity) > (best[0].rank, best[1]):
                    best = (grade, entity, matches)
        return best

    def entity_types(self, objects: Iterable[GradedObject] | None = None) -> list[str]:
        return sorted({e for o in (self.graded if objects is None else objects) for e in o.found})


def buckets(target: TargetScan, policy: Policy) -> list[BucketView]:
    """Bucket views of an S3 target, in bucket name order."""
    views: dict[str, BucketView] = {}
    for posture in of_type(target.facts, BucketPosture):
        if not posture.missing:
            views[posture.bucket] = BucketView(posture, target.connector)
    for scan in target.scans:
        view = views.get(str(scan.resource.metadata.get("bucket")))
        if view is None:
            continue
        found = plaintext_by_entity(scan, policy)
        if found:
            view.graded.append(GradedObject(scan, found))
    return [views[name] for name in sorted(views)]


def examples(objects: Iterable[GradedObject]) -> list[str]:
    return [o.scan.resource.display_name for o in list(objects)[:MAX_EXAMPLES]]


def summary(view: BucketView, objects: list[GradedObject]) -> str:
    """"N sampled objects hold C2 personal data (CN_RESIDENT_ID, ...), e.g. s3://b/k"."""
    top = view.top(objects)
    grade = top[0].id if top else "graded"
    count = len(objects)
    noun = "object holds" if count == 1 else "objects hold"
    return (f"{count} sampled {noun} {grade} personal data ({', '.join(view.entity_types(objects))}), "
            f"e.g. {objects[0].scan.resource.display_name}")


def evidence(matches: Iterable[Match]) -> list[str]:
    """Masked evidence of an object's matches, for bucket-level findings.

    Bucket findings carry no line locations (a line number of one object would be misread as a
    line of the bucket); the masked samples go into ``properties.evidence`` instead.
    """
    out: list[str] = []
    for match in matches:
        if match.evidence not in out:
            out.append(match.evidence)
    return out[:5]

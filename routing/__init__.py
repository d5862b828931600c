"""Routing library: text and facts in, decision out. No I/O beyond reading configuration files;
no web framework, database, broker or object store.

Typical use by the mailroom's router consumer::

    from routing import Catalog, Letter, Router, load_examples, route_submission

    catalog = Catalog.load("mailroom/cities/lindenau/catalog.toml")
    router = Router(catalog, examples, reroutes)      # pure function of its inputs
    decision = router.decide(Letter(text), cases)     # cases: your CaseDirectory
    decision.department, decision.confidence, decision.triage, decision.case, decision.reason

    route_submission(catalog, service_key)            # portal submissions: no guessing

Modules: ``catalog`` (configuration), ``references`` and ``reference_formats`` (finding case
references), ``reference_lookup`` (naming a case by a sloppy citation, no format needed),
``cases`` (``CaseRecord``, the ``CaseDirectory`` protocol), ``followup`` (attaching to a case,
or refusing to), ``lexicon``/``knowledge``/``model`` (the classifier), ``decision``
(``Router``, ``Decision``), ``examples`` (labelled letters and re-routings).
"""

from routing.cases import CaseDirectory, CaseQuery, CaseRecord, InMemoryCaseDirectory, load_cases
from routing.catalog import MISDIRECTED, Catalog, CatalogError
from routing.decision import Decision, Explanation, Letter, route_submission
from routing.examples import Example, ExamplesError, Reroute, load_examples
from routing.model import Candidate
from routing.references import FoundReference
from routing.router import Router

__all__ = [
    "MISDIRECTED",
    "Candidate",
    "CaseDirectory",
    "CaseQuery",
    "CaseRecord",
    "Catalog",
    "CatalogError",
    "Decision",
    "Example",
    "ExamplesError",
    "Explanation",
    "FoundReference",
    "InMemoryCaseDirectory",
    "Letter",
    "Reroute",
    "Router",
    "load_cases",
    "load_examples",
    "route_submission",
]

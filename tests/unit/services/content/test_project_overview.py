"""Home page counts (annotate.services.content.project_overview) on hand-built rows."""

from __future__ import annotations

from annotate.db.engine import session_scope
from annotate.db.models import Domain, LLMModel, Query, Response, Subdomain
from annotate.services.content.project_overview import SubdomainCount, query_counts, totals

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)


def test_counts_per_domain_subdomain_and_language(engine):
    with session_scope(engine) as s:
        d1, d2 = Domain(name="Education"), Domain(name="Academic & Engineering")
        s.add_all([d1, d2])
        s.flush()
        lesson = Subdomain(domain_id=d1.id, name="Lesson Plan")
        abstract = Subdomain(domain_id=d2.id, name="Abstract")
        unused = Subdomain(domain_id=d2.id, name="Limitations")
        s.add_all([lesson, abstract, unused])
        s.flush()
        # Lesson Plan: 2 en + 1 zh; Abstract: 1 zh; Limitations: none
        queries = [Query(index=i, subdomain_id=sub.id, lang=lang, original_text=f"q{i}")
                   for i, (sub, lang) in enumerate([(lesson, "en"), (lesson, "en"), (lesson, "zh"),
                                                    (abstract, "zh")])]
        s.add_all(queries)
        model = LLMModel(name="m")
        s.add(model)
        s.flush()
        s.add(Response(query_id=queries[0].id, model_id=model.id, text="r"))
        s.commit()

        assert query_counts(session=s) == [
            SubdomainCount("Academic & Engineering", "Abstract", en=0, zh=1),
            SubdomainCount("Education", "Lesson Plan", en=2, zh=1),
        ]
        assert totals(session=s) == {"domains_total": 2, "subdomains_total": 3, "queries": 4,
                                     "responses": 1, "models": 1, "domains": 2, "subdomains": 2}

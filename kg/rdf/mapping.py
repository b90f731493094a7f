"""Article → quads in the article's own named graph.

Vocabularies: FaBiO/PRISM/DCTerms for the bibliographic record, FOAF for people, CiTO for
citations, MeSH RDF IRIs for indexing, schema.org ``sameAs`` for PubMed/DOI/PMC, and kg's
ontology (``ontologies/kg.ttl``) only where those lack a term. No blank nodes: every node has a
deterministic IRI, so the canonical dump is byte-identical for the same input.
"""

from __future__ import annotations

from pyoxigraph import Quad

from kg.models import Article, Author, PubDate, RelatedArticle
from kg.rdf import namespaces as ns
from kg.rdf.iris import Iris, is_doi
from kg.rdf.nquads import FALSE, TRUE, Lines, Terms, integer, literal, to_quads

# Terms as N-Quads text (see kg.rdf.nquads: the same bytes pyoxigraph writes, made faster)
CITO, DCTERMS, FABIO, FOAF, KG, OWL, PRISM, RDF, RDFS, SCHEMA, XSD = (
    Terms(n)
    for n in (
        ns.CITO, ns.DCTERMS, ns.FABIO, ns.FOAF, ns.KG, ns.OWL, ns.PRISM, ns.RDF, ns.RDFS,
        ns.SCHEMA, ns.XSD,
    )
)

# CommentsCorrections RefType → property of the citing article (declared in ontologies/kg.ttl).
COMMENT_PROPERTIES: dict[str, str] = {
    ref_type: getattr(KG, ref_type[0].lower() + ref_type[1:])
    for ref_type in (
        "AssociatedDataset",
        "AssociatedPublication",
        "CommentIn",
        "CommentOn",
        "CorrectedandRepublishedIn",
        "CorrectedandRepublishedFrom",
        "ErratumIn",
        "ErratumFor",
        "ExpressionOfConcernIn",
        "ExpressionOfConcernFor",
        "RepublishedIn",
        "RepublishedFrom",
        "RetractedandRepublishedIn",
        "RetractedandRepublishedFrom",
        "RetractionIn",
        "RetractionOf",
        "UpdateIn",
        "UpdateOf",
        "SummaryForPatientsIn",
        "OriginalReportIn",
        "ReprintIn",
        "ReprintOf",
        "Cites",
    )
}


def _date(d: PubDate) -> str | None:
    """The date at the precision given: xsd:date, xsd:gYearMonth or xsd:gYear."""
    if d.year is None:
        return None
    if d.month and d.day:
        return literal(f"{d.year:04d}-{d.month:02d}-{d.day:02d}", XSD.date)
    if d.month:
        return literal(f"{d.year:04d}-{d.month:02d}", XSD.gYearMonth)
    return literal(f"{d.year:04d}", XSD.gYear)


def _iri(value: str | None) -> str | None:
    return None if value is None else f"<{value}>"


def _t(value: str) -> str:
    return f"<{value}>"


def _boolean(value: bool) -> str:
    return TRUE if value else FALSE


def article_quads(article: Article, *, iris: Iris) -> list[Quad]:
    """All quads describing ``article``, in its named graph ``iris.graph(pmid)``."""
    return to_quads(article_nquads(article, iris=iris))


def article_nquads(article: Article, *, iris: Iris) -> str:
    """:func:`article_quads` as N-Quads text, made without a Quad object (the build's path)."""
    pmid = article.pmid
    g = Lines(_t(iris.graph_iri(pmid)))
    a = _t(iris.article_iri(pmid))
    add, text = g.add, g.text

    add(a, RDF.type, FABIO.BookChapter if article.is_book else FABIO.JournalArticle)
    add(a, RDF.type, SCHEMA.ScholarlyArticle)
    add(a, FABIO.hasPubMedId, literal(pmid))
    add(a, SCHEMA.sameAs, _t(iris.pubmed_iri(pmid)))
    add(a, KG.pmidVersion, integer(article.version))
    text(a, KG.sourceFormat, article.source_format)
    text(a, KG.citationStatus, article.status)
    # NLM sometimes files a PII in the DOI slot: that is not a DOI, and the graph does not say it is
    if article.doi and is_doi(article.doi):
        add(a, PRISM.doi, literal(article.doi))
        add(a, SCHEMA.sameAs, _t(iris.doi_iri(article.doi)))
    if article.pmc:
        add(a, FABIO.hasPubMedCentralId, literal(article.pmc))
        add(a, SCHEMA.sameAs, _t(iris.pmc_iri(article.pmc)))
    text(a, KG.pii, article.pii)
    text(a, DCTERMS.title, article.title)
    text(a, KG.vernacularTitle, article.vernacular_title)
    text(a, DCTERMS.rights, article.copyright)
    _abstract(g, a, article, iris)
    _journal(g, a, article, iris)
    for i, author in enumerate(article.authors, 1):
        _author(g, a, _t(iris.part_iri(pmid, "author", i)), author, i)
    for language in article.languages:
        add(a, DCTERMS.language, literal(language))
    for pt in article.publication_types:
        text(a, KG.publicationTypeName, pt.name)
        node = _iri(iris.mesh_iri(pt.ui)) if pt.ui else None
        if node is not None:
            add(a, KG.publicationType, node)
            add(node, RDFS.label, literal(pt.name))
    _mesh(g, a, article, iris)
    for i, chem in enumerate(article.chemicals, 1):
        c = _t(iris.part_iri(pmid, "substance", i))
        add(a, KG.substance, c)
        add(c, RDF.type, KG.Substance)
        text(c, RDFS.label, chem.name)
        text(c, KG.registryNumber, chem.registry_number if chem.registry_number != "0" else None)
        term = _iri(iris.mesh_iri(chem.ui)) if chem.ui else None
        if term is not None:
            add(c, KG.meshTerm, term)
            add(term, RDFS.label, literal(chem.name))
    for i, concept in enumerate(article.supplementary_concepts, 1):
        c = _t(iris.part_iri(pmid, "concept", i))
        add(a, KG.supplementaryConcept, c)
        add(c, RDF.type, KG.SupplementaryConcept)
        text(c, RDFS.label, concept.name)
        text(c, KG.conceptType, concept.kind)
        ui = concept.ui if concept.ui and concept.ui.startswith("C") else None
        term = _iri(iris.mesh_iri(ui)) if ui else None
        if term is not None:
            add(c, KG.meshConcept, term)
            add(term, RDFS.label, literal(concept.name))
    for kw in article.keywords:
        text(a, SCHEMA.keywords, kw.text)
    for i, grant in enumerate(article.grants, 1):
        gr = _t(iris.part_iri(pmid, "grant", i))
        add(a, KG.grant, gr)
        add(gr, RDF.type, KG.Grant)
        text(gr, SCHEMA.identifier, grant.grant_id)
        text(gr, KG.grantAcronym, grant.acronym)
        text(gr, KG.fundingAgency, grant.agency)
        text(gr, KG.fundingCountry, grant.country)
    for cc in article.comments_corrections:
        prop = COMMENT_PROPERTIES.get(cc.ref_type)
        if prop is not None and cc.pmid and cc.pmid.isdigit():
            target = _t(iris.article_iri(cc.pmid))
            add(a, prop, target)
            add(target, FABIO.hasPubMedId, literal(cc.pmid))
            text(target, KG.citationText, cc.ref_source)
    for ref in article.references:
        if ref.pmid and ref.pmid.isdigit():
            add(a, CITO.cites, _t(iris.article_iri(ref.pmid)))
        elif ref.doi and is_doi(ref.doi):
            add(a, CITO.cites, _t(iris.doi_iri(ref.doi)))
    for rel in article.similar_articles:
        add(a, KG.similarTo, _related(g, rel, iris))
    for rel in article.cited_by:
        citing = _related(g, rel, iris)
        add(citing, CITO.cites, a)
        add(a, CITO.isCitedBy, citing)
    return str(g)


def _abstract(g: Lines, a: str, article: Article, iris: Iris) -> None:
    if not article.abstract:
        return
    g.add(a, DCTERMS.abstract, literal(article.abstract_text))
    start = 0
    for i, section in enumerate(article.abstract, 1):
        s = _t(iris.part_iri(article.pmid, "section", i))
        end = start + len(section.text)
        g.add(a, KG.abstractSection, s)
        g.add(s, RDF.type, KG.AbstractSection)
        g.add(s, KG.sectionIndex, integer(i))
        g.text(s, KG.sectionLabel, section.label)
        g.text(s, KG.nlmCategory, section.nlm_category)
        g.add(s, RDF.value, literal(section.text))
        g.add(s, KG.startOffset, integer(start))
        g.add(s, KG.endOffset, integer(end))
        start = end + 1  # sections are joined by one newline


def _journal(g: Lines, a: str, article: Article, iris: Iris) -> None:
    j = article.journal
    if j is not None:
        key = j.nlm_id or (f"issn-{j.issn}" if j.issn else None)
        if key:
            jn = _t(iris.journal_iri(key))
            g.add(a, DCTERMS.isPartOf, jn)
            g.add(jn, RDF.type, FABIO.Journal)
            g.text(jn, DCTERMS.title, j.title)
            # NLM's abbreviation (MedlineTA), which XML and MEDLINE text both give
            g.text(jn, FABIO.hasNLMJournalTitleAbbreviation, j.medline_ta)
            g.text(jn, KG.isoAbbreviation, j.iso_abbreviation)
            g.text(jn, PRISM.eIssn if j.issn_type == "Electronic" else PRISM.issn, j.issn)
            g.text(jn, FABIO.hasNationalLibraryOfMedicineJournalId, j.nlm_id)
        else:
            g.text(a, KG.journalTitle, j.title or j.medline_ta or j.iso_abbreviation)
    g.text(a, PRISM.volume, article.volume)
    g.text(a, PRISM.number, article.issue)
    g.text(a, PRISM.pageRange, article.pages)
    if article.pub_date is not None:
        g.add(a, PRISM.publicationDate, _date(article.pub_date))
        if article.pub_date.year is not None:
            g.add(
                a,
                FABIO.hasPublicationYear,
                literal(f"{article.pub_date.year:04d}", XSD.gYear),
            )
        g.text(a, KG.publicationDateText, article.pub_date.text)
    if article.electronic_date is not None:
        g.add(a, KG.electronicPublicationDate, _date(article.electronic_date))


def _author(g: Lines, a: str, p: str, author: Author, position: int) -> None:
    g.add(a, DCTERMS.creator, p)
    g.add(p, RDF.type, FOAF.Group if author.collective_name else FOAF.Person)
    g.add(p, SCHEMA.position, integer(position))
    g.text(p, FOAF.name, author.display_name)
    g.text(p, FOAF.familyName, author.last_name)
    g.text(p, FOAF.givenName, author.fore_name)
    g.text(p, KG.initials, author.initials)
    g.text(p, KG.nameSuffix, author.suffix)
    if author.orcid:
        g.add(p, OWL.sameAs, _iri(Iris.orcid_iri(author.orcid)))
    if author.equal_contrib:
        g.add(p, KG.equalContribution, TRUE)
    for aff in author.affiliations:
        g.text(p, KG.affiliation, aff.name)
        for ident in aff.identifiers:
            g.text(p, KG.affiliationIdentifier, ident)


def _mesh(g: Lines, a: str, article: Article, iris: Iris) -> None:
    for i, mh in enumerate(article.mesh_headings, 1):
        h = _t(iris.part_iri(article.pmid, "mesh", i))
        g.add(a, KG.meshHeading, h)
        g.add(h, RDF.type, KG.MeshHeading)
        g.add(h, KG.majorTopic, _boolean(mh.major_topic))
        g.text(h, KG.descriptorName, mh.descriptor_name)
        d = _iri(iris.mesh_iri(mh.descriptor_ui)) if mh.descriptor_ui else None
        if d is not None:
            g.add(h, KG.descriptor, d)
            g.add(a, DCTERMS.subject, d)
            g.add(d, RDFS.label, literal(mh.descriptor_name))
        for q in mh.qualifiers:
            g.text(h, KG.qualifierName, q.name)
            qn = _iri(iris.mesh_iri(q.ui)) if q.ui else None
            if qn is None:
                continue
            g.add(h, KG.qualifier, qn)
            g.add(qn, RDFS.label, literal(q.name))
            if q.major_topic:
                g.add(h, KG.majorQualifier, qn)
            if d is not None and mh.descriptor_ui:
                pair = _iri(iris.mesh_iri(mh.descriptor_ui + (q.ui or "")))
                g.add(h, KG.descriptorQualifier, pair)
                g.add(a, DCTERMS.subject, pair)


def _related(g: Lines, rel: RelatedArticle, iris: Iris) -> str:
    """An article named in a "Similar articles"/"Cited by" list, with what the page says of it."""
    r = _t(iris.article_iri(rel.pmid))
    g.add(r, FABIO.hasPubMedId, literal(rel.pmid))
    g.add(r, SCHEMA.sameAs, _t(iris.pubmed_iri(rel.pmid)))
    g.text(r, DCTERMS.title, rel.title)
    g.text(r, KG.journalTitle, rel.journal)
    if rel.year is not None:
        g.add(r, FABIO.hasPublicationYear, literal(f"{rel.year:04d}", XSD.gYear))
    if rel.doi and is_doi(rel.doi):
        g.add(r, PRISM.doi, literal(rel.doi))
        g.add(r, SCHEMA.sameAs, _t(iris.doi_iri(rel.doi)))
    g.text(r, KG.citationText, rel.citation)
    for pt in rel.publication_types:
        g.text(r, KG.publicationTypeName, pt)
    if rel.free_pmc:
        g.add(r, KG.freePmcArticle, TRUE)
    return r
